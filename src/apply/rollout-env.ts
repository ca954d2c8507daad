/** What a rollout needs from outside: connections, the artifact, the clock, progress. */
import type {DesiredHost} from '../model/desired-state.js'
import type {ActualAddress} from '../model/actual-state.js'
import type {HostShell} from './host-run.js'
import type {KaopsdPayload} from './kaopsd-payload.js'

export type ProgressEvent =
  | {type: 'host-start'; host: string; phase: string}
  | {type: 'step'; host: string; phase: string; step: string}
  | {type: 'host-note'; host: string; note: string}
  | {type: 'host-end'; host: string; phase: string; ok: boolean; message?: string}

export interface RolloutEnv {
  mode: 'apply' | 'rollback'
  /** Every director in the inventory (gates read peers even when they do not change). */
  directors: DesiredHost[]
  connect(host: DesiredHost): Promise<HostShell>
  /** kaopsd to ship; undefined: reuse what hosts have (an error for a host without one). */
  kaopsd?: () => Promise<KaopsdPayload>
  /** Addresses per host at the start (who holds which VIP), for ordering. */
  addressesAtStart(name: string): ActualAddress[] | undefined
  parallel: number
  keepReleases: number
  /** "user@machine pid=N since=ISO op=apply" */
  holder: string
  machine: string
  now(): Date
  sleep(ms: number): Promise<void>
  inventory?: string
  inventoryRevision?: string
  /** Apply: this apply's rollout id (makeRolloutId), recorded in every release it makes. */
  rollout?: string
  /** Rollback: go to this release instead of the previous one. */
  rollbackTo?: string
  progress(e: ProgressEvent): void
}
