/** `kaops import`: keepalived.conf files or live directors -> one inventory. */
export {importFromFiles, type FileImportOptions} from './from-files.js'
export {importFromHosts, type HostImportOptions} from './from-hosts.js'
export {importedInventoryYaml} from './inventory-yaml.js'
export {mapInventory, type ImportOptions, type ImportResult, type ImportWarning} from './map-inventory.js'
export {readDirectorConfig, type DirectorSource} from './read-config.js'
export {applyRealServerOutcomes, drRealServers, judgeRealServer, parseRealServerProbe, readRealServers, type DrRealServer, type RealServerOutcome, type RealServerProbe} from './real-servers.js'
