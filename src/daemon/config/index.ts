/**
 * The keepalived.conf front end of kaopsd: parse (parseConfigFile / parseConfigText), check
 * against the host (checkConfig, checkConfigFile for `kaopsd -t`) and dump (`kaopsd -d`).
 * The model it produces is src/model/keepalived-config.ts.
 */
export {checkConfigFile, type CheckFileOptions} from './check-file.js'
export {memoryConfigFs, nodeConfigFs, type ConfigFs} from './config-fs.js'
export {formatDiagnostic, hasErrors} from './diagnostics.js'
export {dumpConfig} from './dump.js'
export {checkConfig} from './host-checks.js'
export {nodeHostEnv, type FileInfo, type HostEnv} from './host-env.js'
export {defaultConfigId, parseConfigFile, parseConfigText, type ParseOptions, type ParseResult} from './parse-config.js'
export type {Diagnostic, KeepalivedConfig} from '../../model/keepalived-config.js'
