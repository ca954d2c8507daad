import type {Diagnostic, KeepalivedConfig} from '../../model/keepalived-config.js'
import {hasErrors, sortDiagnostics} from './diagnostics.js'
import {checkConfig} from './host-checks.js'
import {nodeHostEnv, type HostEnv} from './host-env.js'
import {parseConfigFile, type ParseOptions} from './parse-config.js'

export interface CheckFileOptions extends ParseOptions {
  /** The host to check against; default the real one. */
  env?: HostEnv
}

/**
 * `kaopsd -t`: parse, check across blocks, then check against the host. ok is false as soon
 * as one message is an error; warnings alone keep it ok.
 */
export async function checkConfigFile(path: string, opts: CheckFileOptions = {}): Promise<{ok: boolean; diagnostics: Diagnostic[]; config: KeepalivedConfig}> {
  const {config, diagnostics} = await parseConfigFile(path, opts)
  const all = sortDiagnostics([...diagnostics, ...checkConfig(config, opts.env ?? nodeHostEnv())], config.files)
  return {ok: !hasErrors(all), diagnostics: all, config}
}
