/**
 * The load-balancing data plane's own narrow types: what the kernel should hold, whichever
 * backend holds it. Health checking produces these; a backend reconciles the kernel to them.
 */

export const lbAlgos = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq'] as const
export type LbAlgo = (typeof lbAlgos)[number]

export const lbKinds = ['NAT', 'DR', 'TUN'] as const
export type LbKind = (typeof lbKinds)[number]

export type LbProtocol = 'TCP' | 'UDP' | 'SCTP'
export type IpFamily = 'ipv4' | 'ipv6'

/** `virtual_server IP PORT` or `virtual_server fwmark N`. */
export type ServiceKey =
  | {kind: 'address'; family: IpFamily; address: string; port: number; protocol: LbProtocol}
  | {kind: 'fwmark'; family: IpFamily; mark: number}

export interface Destination {
  address: string
  /** 0 for fwmark services where the port is kept. */
  port: number
  /** 0 means quiescent (inhibit_on_failure): no new connections, existing ones keep going. */
  weight: number
}

export interface VirtualService {
  key: ServiceKey
  algo: LbAlgo
  kind: LbKind
  /** persistence_timeout in seconds; 0 or absent: no persistence. */
  persistenceTimeoutS?: number
  /** persistence_granularity as a prefix length (keepalived writes a netmask; the mapping converts). */
  persistencePrefix?: number
  destinations: Destination[]
  /** DR mode with nftables: the director's interface the VIP traffic arrives on and leaves by. */
  interface?: string
}

/** Where the kernel's load balancing is reconciled to. */
export interface LbBackend {
  readonly name: 'ipvs' | 'nftables'
  /** Makes the kernel hold exactly `desired`, touching only what differs. */
  reconcile(desired: readonly VirtualService[]): Promise<ReconcileReport>
  /** Removes everything this backend owns (daemon stop without -I). */
  clear(): Promise<void>
}

export interface ReconcileReport {
  /** The exact text handed to the kernel tool (empty when nothing changed). */
  applied: string
  changes: number
  warnings: string[]
}

export function serviceLabel(k: ServiceKey): string {
  if (k.kind === 'fwmark') return `fwmark ${k.mark}${k.family === 'ipv6' ? ' (ipv6)' : ''}`
  const host = k.family === 'ipv6' ? `[${k.address}]` : k.address
  return `${k.protocol} ${host}:${k.port}`
}
