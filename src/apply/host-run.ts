/**
 * The state of one host during a rollout: what it was on, what it is being moved to, and what
 * has been done to it so far (so a failure can say exactly where the host was left, and an
 * automatic rollback knows what to undo). Plain data plus the host's connection.
 */
import type {DesiredHost} from '../model/desired-state.js'
import type {HostPlan} from '../model/plan.js'
import type {ReleaseManifest} from '../model/release.js'
import type {ExecOptions, ExecResult} from '../remote/connection.js'
import type {Inspection} from './host-scripts.js'

/** What actions need of a connection; RemoteHost fits, tests can pass a fake. */
export interface HostShell {
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>
  close(): void
}

export type HostState =
  | 'unchanged'
  | 'pending'
  | 'running'
  | 'done'
  | 'failed-nothing-switched'
  | 'rolled-back'
  | 'rollback-failed'
  | 'failed'
  | 'not-touched'

export interface HostRun {
  desired: DesiredHost
  plan?: HostPlan
  shell?: HostShell
  state: HostState
  /** The step running or that failed. */
  step?: string
  error?: string
  inspection?: Inspection
  /** Manifest of the release current when we started. */
  startManifest?: ReleaseManifest | null
  startRelease?: string | null
  /** The release this run moves the host to. */
  target?: ReleaseManifest
  /** True once upload-release made a release that is not (yet) current. */
  uploaded: boolean
  switched: boolean
  /** Paths install-files changed or deleted in this run. */
  changedPaths: string[]
  /** Whether kaopsd's binary differs between the start and the target release. */
  binaryChanged: boolean
  stoppedForHandover: boolean
  /** Peers whose kaopsd took this host's instances over for the handover; ended by hand-back. */
  takeovers: Array<{peer: DesiredHost; instances: string[]}>
  /** This run stopped and disabled the keepalived.service kaopsd replaces (undone by an automatic rollback to no release). */
  retiredDaemon: boolean
  locked: boolean
  holder?: string
  /** Human notes for the summary: "reloaded kaopsd", "kaopsd sent (12.3 MB gz)". */
  notes: string[]
  /** Where the host ended up. */
  finalRelease?: string | null
}

export function newHostRun(desired: DesiredHost, plan?: HostPlan): HostRun {
  return {desired, plan, state: 'pending', uploaded: false, switched: false, changedPaths: [], binaryChanged: false, stoppedForHandover: false, takeovers: [], retiredDaemon: false, locked: false, notes: []}
}
