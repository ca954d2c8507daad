/**
 * The failover drill as data: playbooks/failover-drill.yaml lists steps from a FIXED catalog
 * (below) that src/verify/drill-run.ts implements. Errors name file:line.
 */
import {readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {LineCounter, parseDocument} from 'yaml'
import {KaopsError} from '../model/errors.js'

export const DRILL_ACTIONS = {
  'check-healthy': [],
  'start-address-monitor': [],
  'start-capture': [],
  'start-probe': ['interval_ms', 'timeout_ms'],
  wait: ['ms'],
  'inject-fault': [],
  'wait-takeover': ['timeout_ms'],
  restore: [],
  'wait-failback': ['timeout_ms'],
  'stop-probe': [],
  'stop-capture': [],
  'stop-address-monitor': [],
} as const satisfies Record<string, readonly string[]>

export type DrillAction = keyof typeof DRILL_ACTIONS

export interface DrillStep {
  action: DrillAction
  params: Record<string, number>
  line: number
}

export const DEFAULT_DRILL_PLAYBOOK = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'playbooks', 'failover-drill.yaml')

/** Pure: YAML text to steps; unknown actions, parameters and missing required steps are errors. */
export function parseDrillPlaybook(text: string, file: string): DrillStep[] {
  const lc = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lc})
  if (doc.errors.length) throw new KaopsError(`${file}:${lc.linePos(doc.errors[0]!.pos[0]).line}: ${doc.errors[0]!.message.split('\n')[0]}`)
  const root = doc.toJS() as {kind?: string; steps?: unknown}
  if (root?.kind !== 'DrillPlaybook') throw new KaopsError(`${file}:1: kind must be DrillPlaybook`)
  const stepsNode = doc.get('steps', true) as {items?: Array<{range?: [number]}>} | undefined
  if (!Array.isArray(root.steps)) throw new KaopsError(`${file}:1: steps must be a list`)
  const steps = root.steps.map((s: unknown, i: number): DrillStep => {
    const line = lc.linePos(stepsNode?.items?.[i]?.range?.[0] ?? 0).line
    const o = s as {action?: string; with?: Record<string, unknown>}
    if (!o || typeof o.action !== 'string' || !(o.action in DRILL_ACTIONS)) {
      throw new KaopsError(`${file}:${line}: unknown drill action ${JSON.stringify(o?.action)}; known: ${Object.keys(DRILL_ACTIONS).join(', ')}`)
    }
    const allowed: readonly string[] = DRILL_ACTIONS[o.action as DrillAction]
    const params: Record<string, number> = {}
    for (const [k, v] of Object.entries(o.with ?? {})) {
      if (!allowed.includes(k)) throw new KaopsError(`${file}:${line}: ${o.action} takes no parameter ${k}${allowed.length ? ` (it takes ${allowed.join(', ')})` : ''}`)
      if (typeof v !== 'number' || !(v >= 0)) throw new KaopsError(`${file}:${line}: ${o.action}.${k} must be a non-negative number of milliseconds`)
      params[k] = v
    }
    return {action: o.action as DrillAction, params, line}
  })
  for (const need of ['inject-fault', 'restore'] as const) {
    if (!steps.some((s) => s.action === need)) throw new KaopsError(`${file}: a drill needs a ${need} step`)
  }
  if (steps.findIndex((s) => s.action === 'restore') < steps.findIndex((s) => s.action === 'inject-fault')) throw new KaopsError(`${file}: restore must come after inject-fault`)
  return steps
}

export async function loadDrillPlaybook(file = DEFAULT_DRILL_PLAYBOOK): Promise<DrillStep[]> {
  return parseDrillPlaybook(await readFile(file, 'utf8'), file)
}
