/**
 * A playbook: a rollout procedure as data (playbooks/*.yaml), so an operator can review it in
 * git and reorder or add a step without code. Every step names an action from a FIXED catalog
 * that src/apply/actions.ts implements; schemas/playbook.schema.json is the same contract for
 * editors. Keep the three in step.
 */

export const PLAYBOOK_API_VERSION = 'kaops/v1' as const

/** The actions the code implements, in the order they usually run. */
export const ACTION_NAMES = [
  'lock',
  'upload-release',
  'select-release',
  'config-test',
  'switch-release',
  'install-files',
  'apply-sysctl',
  'prepare-real-servers',
  'apply-firewall',
  'install-units',
  'handover-mastership',
  'retire-keepalived',
  'reload-or-restart',
  'hand-back-mastership',
  'health-gate',
  'prune-releases',
  'unlock',
  'run',
  'wait',
] as const

export type ActionName = (typeof ACTION_NAMES)[number]

/** Which hosts a phase runs on. */
export type HostSelector = 'all' | 'directors' | 'real-servers'

/**
 * How a phase walks its hosts: `parallel` (at most --parallel at once), `serial` (one at a
 * time, in inventory order) or `backups-first` (directors: current backups before current
 * masters, never two members of one VRRP instance at once).
 */
export type PhaseOrder = 'parallel' | 'serial' | 'backups-first'

export interface PlaybookStep {
  action: ActionName
  /** Shown in progress and the summary; defaults to the action. */
  name?: string
  /** Action parameters (see the schema for each action's). */
  params: Record<string, unknown>
  /** 1-based line of the step in its file, for messages. */
  line?: number
}

export interface PlaybookPhase {
  name: string
  hosts: HostSelector
  order: PhaseOrder
  steps: PlaybookStep[]
  line?: number
}

export interface Playbook {
  apiVersion: typeof PLAYBOOK_API_VERSION
  kind: 'Playbook'
  name: string
  description?: string
  phases: PlaybookPhase[]
  /** Where it was read from. */
  source: string
}
