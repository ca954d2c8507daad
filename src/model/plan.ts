/**
 * The plan: what `apply` would change, host by host. Data first, rendered second (human text
 * and `--json` come from the same object). Versioned: `format_version` changes only when a
 * consumer would have to change.
 */
import type {DesiredHost} from './desired-state.js'

export const PLAN_FORMAT_VERSION = 1 as const

export type ResourceKind = 'file' | 'sysctl' | 'firewall' | 'binary' | 'unit' | 'loopback-vip'
export type ResourceAction = 'create' | 'update' | 'delete' | 'no-op'

export interface ResourceChange {
  kind: ResourceKind
  /** What the resource is: a path, a sysctl key, a unit name, an address, "kaopsd". */
  id: string
  action: ResourceAction
  /** Summaries, never raw file contents (those only appear, redacted, in `diff`). */
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
  /** Files: a unified diff with every secret replaced by `<redacted>`. */
  diff?: string
  /** One line for people: why this action. */
  reason?: string
}

export interface HostPlan {
  host: string
  address: string
  roles: string[]
  /** sha256 of the actual state this plan was computed against (see isPlanStale). */
  fingerprint: string
  changes: ResourceChange[]
  /** Count of changes per action, no-ops included. */
  summary: Record<ResourceAction, number>
}

export interface HostError {
  host: string
  message: string
}

export interface VipMove {
  instance: string
  vrid: number
  addresses: string[]
  /** Directors holding the VIP now (empty: nobody; more than one: split brain). */
  from: string[]
  to: string
}

export interface DaemonAction {
  host: string
  action: 'reload' | 'restart' | 'start'
  reason: string
}

export interface VrrpImpact {
  vipMoves: VipMove[]
  daemons: DaemonAction[]
}

export interface Plan {
  format_version: typeof PLAN_FORMAT_VERSION
  created_at: string
  /** Inventory path as given, when known. */
  inventory?: string
  hosts: HostPlan[]
  /** Hosts that could not be planned (unreachable, probe failed). */
  errors: HostError[]
  vrrp: VrrpImpact
  /** True when at least one resource is not a no-op. */
  has_changes: boolean
}

/**
 * A plan saved with `--out`: the plan plus the desired state apply needs to carry it out. It
 * holds secrets in clear (rendered files), so it is written mode 0600 and says so.
 */
export interface SavedPlan extends Plan {
  sensitive: string
  desired: DesiredHost[]
  /** sha256 of the kaopsd executable the plan expects, when the plan covered the binary. */
  kaopsd_sha256?: string
}
