import {existsSync} from 'node:fs'
import {checkConfigFile as checkFile, dumpConfig as dump, formatDiagnostic, hasErrors, parseConfigFile} from './config/index.js'
import {sortDiagnostics} from './config/diagnostics.js'
import {lvsConfigDiagnostics} from './core/lvs-mapping.js'

/** What `kaopsd -t` and `kaopsd -d` do with a configuration file. */

export interface ConfigCheckResult {
  /** true when keepalived 2.2's `-t` would also accept the file. */
  ok: boolean
  /** One line each, naming file:line, in keepalived's wording where there is one. */
  messages: string[]
}

export interface ConfigDump {
  ok: boolean
  /** The dump, ready to print (text, or JSON when asked). */
  output: string
  messages: string[]
}

export interface ConfigReadOptions {
  /** keepalived's -i: the id @id / @^id lines are matched against. */
  configId?: string
}

export async function checkConfigFile(path: string, opts: ConfigReadOptions = {}): Promise<ConfigCheckResult> {
  const res = await checkFile(path, opts)
  // What the chosen data plane cannot program is a config error too (nftables: lc, TUN ...).
  const lvs = lvsConfigDiagnostics(res.config, existsSync('/proc/net/ip_vs'))
  const all = sortDiagnostics([...res.diagnostics, ...lvs], res.config.files)
  return {ok: !hasErrors(all), messages: all.map(formatDiagnostic)}
}

export async function dumpConfig(path: string, opts: ConfigReadOptions & {json: boolean}): Promise<ConfigDump> {
  const {config, diagnostics} = await parseConfigFile(path, opts.configId === undefined ? {} : {configId: opts.configId})
  const errors = diagnostics.filter((d) => d.severity === 'error')
  return {ok: errors.length === 0, output: errors.length === 0 ? dump(config, {json: opts.json}) : '', messages: diagnostics.map(formatDiagnostic)}
}
