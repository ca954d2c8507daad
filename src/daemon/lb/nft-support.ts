import {serviceLabel, type VirtualService} from './types.js'

/**
 * What the nftables data plane can express. Connection-counting schedulers (lc, wlc, sed, nq,
 * lblc, lblcr) need per-server connection counts the kernel's nftables does not keep, dh needs
 * a destination hash over a cache the kernel does not keep either, and TUN needs IPIP
 * encapsulation per destination. Those are config errors here, never a silent fallback.
 * Callers checking a configuration pass every configured real server as a destination.
 */
export const nftSupportedAlgos = ['rr', 'wrr', 'sh'] as const
export const nftSupportedKinds = ['NAT', 'DR'] as const

export function nftablesProblems(services: readonly VirtualService[]): string[] {
  const problems: string[] = []
  for (const vs of services) {
    const at = `virtual_server ${serviceLabel(vs.key)}`
    if (!(nftSupportedAlgos as readonly string[]).includes(vs.algo)) {
      problems.push(`${at}: lb_algo ${vs.algo} is not supported by the nftables backend (supported: ${nftSupportedAlgos.join(', ')}; use lvs_backend ipvs for ${vs.algo})`)
    }
    if (!(nftSupportedKinds as readonly string[]).includes(vs.kind)) {
      problems.push(`${at}: lb_kind ${vs.kind} is not supported by the nftables backend (supported: ${nftSupportedKinds.join(', ')})`)
    }
    if (vs.kind === 'DR' && vs.key.kind === 'fwmark') {
      problems.push(`${at}: lb_kind DR with fwmark is not supported by the nftables backend (its ingress hook runs before any mark is set)`)
    }
    const ports = [...new Set(vs.destinations.map((d) => d.port))]
    if (vs.kind === 'NAT' && vs.key.kind === 'address' && vs.key.family === 'ipv6' && (vs.persistenceTimeoutS ?? 0) > 0 && ports.length > 1) {
      // nft 1.0.6 cannot remember an IPv6 address together with a port from the packet path.
      problems.push(`${at}: persistence_timeout on an IPv6 service whose real servers listen on different ports (${ports.join(', ')}) is not supported by the nftables backend (give them one port, or use lvs_backend ipvs)`)
    }
    if (vs.kind === 'DR' && !vs.interface) {
      problems.push(`${at}: lb_kind DR with the nftables backend needs the director's interface`)
    }
  }
  return problems
}
