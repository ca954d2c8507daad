/**
 * What `kaopsd status --json` prints and the control socket answers: the contract between the
 * daemon and everything that reads it (kaops plan/apply/verify, operators' scripts).
 * Bump format_version on any incompatible change.
 */

export type VrrpStateName = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP'

/** keepalived's per-instance counters, under keepalived's own names. */
export interface VrrpInstanceStats {
  advert_rcvd: number
  advert_sent: number
  become_master: number
  release_master: number
  packet_len_err: number
  ip_ttl_err: number
  invalid_type_rcvd: number
  addr_list_err: number
  invalid_authtype: number
  authtype_mismatch: number
  auth_failure: number
  pri_zero_rcvd: number
  pri_zero_sent: number
  /**
   * Beyond keepalived's thirteen, so that no dropped packet goes uncounted: failures keepalived
   * counts only under SNMP (chk_err, vers_err, vrid_err) or not at all (advert_interval_err is
   * declared but never bumped in 2.2.7; unknown_peer_err is kaopsd's own). Optional for readers
   * of older kaopsd.
   */
  advert_interval_err?: number
  chk_err?: number
  vers_err?: number
  vrid_err?: number
  unknown_peer_err?: number
}

export interface VrrpInstanceStatus {
  name: string
  state: VrrpStateName
  vrid: number
  interface: string
  version: 2 | 3
  family: 4 | 6
  /** Configured priority. */
  priority: number
  /** After track scripts, interfaces and files. */
  effectivePriority: number
  /** CIDR strings, as configured. */
  vips: string[]
  /** Primary address of the router currently believed master (this one when MASTER). */
  masterAddress: string | null
  /** Why the last transition happened, as logged. */
  lastTransition: {at: string; from: VrrpStateName; to: VrrpStateName; reason: string} | null
  syncGroup: string | null
  stats: VrrpInstanceStats
  /**
   * An operator takeover in force (`kaopsd takeover`), or null. Optional for readers of older
   * kaopsd, which never report one.
   */
  takeover?: TakeoverStatus | null
}

/** `kaopsd takeover`: the instance advertises priority 254 (an owner: 255) until the lease ends. */
export interface TakeoverStatus {
  /** When the lease ends (ISO 8601, the daemon's wall clock at the time of the report). */
  until: string
  /** Whole seconds left, rounded up. */
  secondsLeft: number
  /** The reason given with the request, or null. */
  reason: string | null
}

/**
 * What the control socket answers to {"command":"takeover"} / {"command":"takeover-end"} and
 * `kaopsd takeover [--end] --json` prints: each instance the request touched (the named ones and
 * the other members of their sync groups), in its state after the step.
 */
export interface TakeoverAnswer {
  command: 'takeover' | 'takeover-end'
  instances: TakeoverInstance[]
}

export interface TakeoverInstance {
  name: string
  state: VrrpStateName
  /** Configured priority. */
  priority: number
  /** 254 (255 for an owner) during a takeover, else after trackers. */
  effectivePriority: number
  takeover: TakeoverStatus | null
}

export interface RealServerStatus {
  address: string
  port: number
  weight: number
  up: boolean
  lastCheck: {at: string; ok: boolean; detail: string; latencyMs: number} | null
}

export interface VirtualServerStatus {
  /** "198.18.0.100:80", "fwmark 1" or "group NAME". */
  key: string
  address: string | null
  port: number | null
  protocol: 'TCP' | 'UDP' | 'SCTP'
  backend: 'ipvs' | 'nftables' | 'none'
  quorumUp: boolean
  realServers: RealServerStatus[]
}

export interface KaopsdStatus {
  format_version: 1
  version: string
  pid: number
  uptimeSeconds: number
  configPath: string
  /** sha256 of the configuration as loaded (after includes), for drift checks. */
  configHash: string
  /** The release directory name when run from /opt/kaops/releases/<id>, else null. */
  release: string | null
  instances: VrrpInstanceStatus[]
  virtualServers: VirtualServerStatus[]
}
