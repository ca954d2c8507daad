import type {RealServerStatus, VirtualServerStatus} from '../../model/kaopsd-status.js'
import type {CheckResult} from './types.js'
import {realServerId, type VirtualServerConfig, type VirtualServerState} from './virtual-server-state.js'

/**
 * One virtual server's entry of `kaopsd status --json` (format_version 1), from its config,
 * its health state and the last result of each real server's checker (keyed by realServerId).
 */
export function virtualServerStatus(
  cfg: VirtualServerConfig,
  s: VirtualServerState,
  backend: VirtualServerStatus['backend'],
  lastChecks: ReadonlyMap<string, {at: Date; result: CheckResult}>,
  /** A virtual_server group: reported under its name, as one entry. */
  groupName?: string,
): VirtualServerStatus {
  const k = cfg.key
  const realServers: RealServerStatus[] = cfg.realServers.map((rs) => {
    const id = realServerId(rs)
    const h = s.health[id]
    const last = lastChecks.get(id)
    return {
      address: rs.address,
      port: rs.port,
      weight: h?.weight ?? rs.weight,
      up: h?.up ?? false,
      lastCheck: last ? {at: last.at.toISOString(), ok: last.result.ok, detail: last.result.detail, latencyMs: last.result.latencyMs} : null,
    }
  })
  if (groupName !== undefined) {
    return {key: `group ${groupName}`, address: null, port: null, protocol: k.kind === 'fwmark' ? 'TCP' : k.protocol, backend, quorumUp: s.quorumUp, realServers}
  }
  return k.kind === 'fwmark'
    ? {key: `fwmark ${k.mark}`, address: null, port: null, protocol: 'TCP', backend, quorumUp: s.quorumUp, realServers}
    : {key: realServerId(k), address: k.address, port: k.port, protocol: k.protocol, backend, quorumUp: s.quorumUp, realServers}
}
