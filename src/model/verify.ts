/**
 * `kaops verify` and `kaops verify --failover-drill`: the facts read from the hosts, the checks
 * made over them, and the drill's measurements. Pure data shared by the gatherer, the pure
 * checks, the formatters and the HTML report. Bump format_version on incompatible changes.
 */
import type {ActualHost} from './actual-state.js'
import type {KaopsdStatus} from './kaopsd-status.js'

export type CheckStatus = 'pass' | 'fail' | 'skip'

export interface CheckResult {
  /** Which invariant, e.g. "vip.placement" (stable: scripts match on it). */
  id: string
  /** What it was checked on: a host, "VI_1", "VI_1 198.18.0.100", "service web". */
  subject: string
  status: CheckStatus
  /** One line for people. */
  message: string
  /** What the verdict rests on (never a secret: auth values appear only as hash prefixes). */
  evidence: Record<string, unknown>
}

/** What verify reads from one host beyond the state probe, in the same SSH connection. */
export interface HostExtraFacts {
  /** Two `kaopsd status --json` reads `gapMs` apart (undefined: the daemon did not answer). */
  status1?: KaopsdStatus
  status2?: KaopsdStatus
  gapMs: number
  /** Interface name -> MAC address (lower case), to tell who answered an ARP request. */
  macs: Record<string, string>
  /** `nft list ruleset` and `iptables -S` text, to find drops of VRRP outside kaops' own table. */
  nftRuleset: string
  iptables: string
}

/** Who answered ARP for one address, asked from the probe host. */
export interface ArpObservation {
  address: string
  /** arping: every replying MAC; neigh: the one the neighbour table learnt; none: no tool. */
  method: 'arping' | 'neigh' | 'none'
  macs: string[]
  /** Raw tool output, for the evidence. */
  raw: string
}

export interface HostFacts {
  name: string
  /** Set when the host could not be read (unreachable, probe failed). */
  error?: string
  actual?: ActualHost
  extra?: HostExtraFacts
}

export interface VerifyFacts {
  hosts: Record<string, HostFacts>
  /** From the probe host; empty when the inventory has none. */
  arp: ArpObservation[]
  /** The probe host asked, when there was one. */
  probeHost?: string
}

export interface VerifyReport {
  format_version: 1
  inventory: string
  ok: boolean
  counts: Record<CheckStatus, number>
  checks: CheckResult[]
}

// ---------------------------------------------------------------------------------------------
// Failover drill

export type DrillFault = 'graceful' | 'crash' | 'link' | 'track'

/** One thing seen during a drill, on one timeline (ms since the epoch). */
export type DrillEvent =
  | {t: number; kind: 'advert'; src: string; vrid: number; priority: number}
  | {t: number; kind: 'garp'; src: string; address: string; mac: string}
  | {t: number; kind: 'arp'; src: string; address: string; op: 'request' | 'reply'; mac: string}
  | {t: number; kind: 'vip-add' | 'vip-del'; host: string; address: string}
  | {t: number; kind: 'probe'; ok: boolean}
  | {t: number; kind: 'fault' | 'restore'; host: string; what: string}

export interface DrillPhaseMeasure {
  /** Who held the VIP before and after. */
  from: string
  to: string | null
  /** Reference instant: the old master's last advert (crash/link/track) or its priority-0 advert (graceful). */
  t0: number | null
  /** Milliseconds from t0; null when not seen. */
  firstAdvertMs: number | null
  garpMs: number | null
  vipAddedMs: number | null
  /** The protocol's bound for firstAdvertMs (Master_Down_Interval, or skew for graceful). */
  boundMs: number
  outage: {firstFailAt: number | null; lastFailAt: number | null; durationMs: number; failedProbes: number; probes: number}
  verdict: 'PASS' | 'FAIL'
  reasons: string[]
  /** What is worth knowing but not a failure (e.g. the VIP left on a killed master). */
  notes: string[]
}

export interface DrillFailback {
  expected: boolean
  /** ms from the restore to the original master's first advert while the other was master. */
  firstAdvertMs: number | null
  garpMs: number | null
  outage: DrillPhaseMeasure['outage']
  verdict: 'PASS' | 'FAIL'
  message: string
}

export interface DrillResult {
  instance: string
  fault: DrillFault
  master: string
  vip: string
  startedAt: number
  takeover: DrillPhaseMeasure
  failback: DrillFailback
  /** Whether the cluster was left as found, and how we know. */
  restored: {ok: boolean; message: string}
  events: DrillEvent[]
}

export interface DrillReport {
  format_version: 1
  inventory: string
  ok: boolean
  toleranceMs: number
  results: DrillResult[]
}
