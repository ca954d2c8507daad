import type {KeepalivedConfig} from '../../model/keepalived-config.js'
import type {DiagnosticSink} from './diagnostics.js'

/**
 * Checks across blocks that need no host: references resolve, names are unique, VRIDs do
 * not clash. (Interfaces and script files are checked by checkConfig, which gets the host.)
 */
export function checkSemantics(config: KeepalivedConfig, sink: DiagnosticSink): void {
  const scripts = new Map(config.vrrpScripts.map((s) => [s.name, s]))
  const trackFiles = new Set(config.vrrpTrackFiles.map((t) => t.name))
  duplicates(sink, config.vrrpScripts, 'vrrp_script')
  duplicates(sink, config.vrrpTrackFiles, 'vrrp_track_file')
  duplicates(sink, config.vrrpInstances, 'vrrp_instance')
  duplicates(sink, config.vrrpSyncGroups, 'vrrp_sync_group')
  duplicates(sink, config.virtualServerGroups, 'virtual_server_group')

  const byVrid = new Map<string, string>()
  for (const v of config.vrrpInstances) {
    const label = `vrrp_instance ${v.name}`
    if (!v.interface) sink.error(v.source, `${label}: no 'interface' set`)
    if (v.virtualRouterId === 0) sink.error(v.source, `${label}: no valid 'virtual_router_id' (1..255) set`)
    if (v.virtualIpAddresses.length === 0) sink.error(v.source, `${label}: no virtual_ipaddress; at least one VIP is needed`)
    if (v.interface && v.virtualRouterId > 0) {
      const key = `${v.interface}/${v.family}/${v.virtualRouterId}`
      const other = byVrid.get(key)
      if (other) {
        sink.error(v.source, `${label}: virtual_router_id ${v.virtualRouterId} is already used by vrrp_instance ${other} on ${v.interface} (IPv${v.family}); VRIDs must be unique per interface`)
      } else byVrid.set(key, v.name)
    }
    for (const t of v.trackScripts) {
      const s = scripts.get(t.name)
      if (!s) sink.error(t.source, `${label}: track_script '${t.name}' is not a defined vrrp_script`)
      else if (!s.script) sink.error(t.source, `${label}: track_script '${t.name}' refers to a vrrp_script without a script`)
    }
    for (const t of v.trackFiles) {
      if (!trackFiles.has(t.name)) sink.error(t.source, `${label}: track_file '${t.name}' is not a defined vrrp_track_file`)
    }
    for (const p of v.unicastPeers) {
      const family = p.address.includes(':') ? 6 : 4
      if (family !== v.family) sink.error(p.source, `${label}: unicast_peer ${p.address} is not IPv${v.family} like the instance`)
    }
    if (v.unicastSrcIp && (v.unicastSrcIp.includes(':') ? 6 : 4) !== v.family) {
      sink.error(v.source, `${label}: unicast_src_ip ${v.unicastSrcIp} is not IPv${v.family} like the instance`)
    }
    if (v.authentication?.type === 'AH' && v.state === 'MASTER' && v.stateGiven) {
      sink.error(v.source, `${label}: initial state MASTER cannot be combined with AH authentication`)
    }
  }

  const instanceNames = new Set(config.vrrpInstances.map((v) => v.name))
  const memberOf = new Map<string, string>()
  for (const g of config.vrrpSyncGroups) {
    for (const name of g.instances) {
      if (!instanceNames.has(name)) sink.error(g.source, `vrrp_sync_group ${g.name}: '${name}' is not a defined vrrp_instance`)
      const other = memberOf.get(name)
      if (other) sink.error(g.source, `vrrp_sync_group ${g.name}: vrrp_instance ${name} is already in sync group ${other}`)
      else memberOf.set(name, g.name)
    }
    for (const t of g.trackScripts) {
      if (!scripts.has(t.name)) sink.error(t.source, `vrrp_sync_group ${g.name}: track_script '${t.name}' is not a defined vrrp_script`)
    }
  }

  const groups = new Set(config.virtualServerGroups.map((g) => g.name))
  for (const vs of config.virtualServers) {
    if (vs.target.kind === 'group' && !groups.has(vs.target.group)) {
      sink.error(vs.source, `virtual_server group ${vs.target.group}: no virtual_server_group with that name`)
    }
  }
}

function duplicates(sink: DiagnosticSink, items: Array<{name: string; source: {file: string; line: number}}>, what: string): void {
  const seen = new Map<string, {file: string; line: number}>()
  for (const item of items) {
    if (item.name === '') continue
    const first = seen.get(item.name)
    if (first) sink.error(item.source, `${what} ${item.name} is defined twice (first at ${first.file}:${first.line})`)
    else seen.set(item.name, item.source)
  }
}
