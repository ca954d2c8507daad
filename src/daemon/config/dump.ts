import {stringify} from 'yaml'
import type {KeepalivedConfig} from '../../model/keepalived-config.js'

/**
 * `kaopsd -d`: the parsed configuration as kaopsd will run it, defaults filled in.
 * `json: true` gives the model itself (with file:line sources) for machines; otherwise a
 * YAML rendering without the sources, which reads well in a terminal or a log.
 */
export function dumpConfig(config: KeepalivedConfig, opts: {json?: boolean} = {}): string {
  if (opts.json) return JSON.stringify(config, null, 2) + '\n'
  const header = `# kaopsd configuration dump (durations in ms; read from ${config.files.join(', ') || 'text'})\n`
  return header + stringify(withoutSources(config), {lineWidth: 0})
}

function withoutSources(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSources)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'source' || key === 'files' || inner === undefined) continue
      out[key] = withoutSources(inner)
    }
    return out
  }
  return value
}
