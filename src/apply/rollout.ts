/**
 * Runs a playbook over hosts: phases in order, hosts within a phase in the order the phase
 * asks (parallel groups, one at a time, or director waves: backups first, one member of an
 * instance at a time), steps in playbook order. The first host that fails stops the rollout:
 * it is put back where it started (automatically, when it had already switched), hosts not yet
 * reached stay untouched, and every host's final state is reported. Locks taken are always
 * released, even on failure.
 */
import type {DesiredHost} from '../model/desired-state.js'
import type {Playbook, PlaybookPhase} from '../model/playbook.js'
import {ACTIONS, StepError, restoreStart, type ActionContext} from './actions.js'
import {chunks, directorWaves, orderDirectors} from './host-order.js'
import type {HostRun, HostShell, HostState} from './host-run.js'
import {discardReleaseScript} from './host-scripts.js'
import {unlockScript} from './lock.js'
import {readReleases} from './releases-list.js'
import {mapSettledLimit} from '../remote/parallel.js'
import {decideRollback, type RollbackDecision} from './rollback-decision.js'
import type {RolloutEnv} from './rollout-env.js'

export interface HostOutcome {
  host: string
  roles: string[]
  state: HostState
  release_before: string | null
  release_after: string | null
  /** The step that failed. */
  step?: string
  error?: string
  notes: string[]
}

export interface RolloutResult {
  mode: 'apply' | 'rollback'
  playbook: string
  ok: boolean
  /** Apply: the id recorded in every release it made (`kaops releases` shows it). */
  rollout?: string
  /** Rollback without --to: the apply it undid (absent when no current release recorded one). */
  undone_rollout?: string
  /** Set when a lock held by someone else stopped the rollout before anything changed. */
  locked?: {host: string; holder: string}
  hosts: HostOutcome[]
  seconds: number
}

function selects(phase: PlaybookPhase, d: DesiredHost): boolean {
  if (phase.hosts === 'all') return true
  if (phase.hosts === 'directors') return d.roles.includes('director')
  return !d.roles.includes('director')
}

function groups(phase: PlaybookPhase, runs: HostRun[], env: RolloutEnv): HostRun[][] {
  const byName = new Map(runs.map((r) => [r.desired.name, r]))
  if (phase.order === 'serial') return chunks(runs, 1)
  if (phase.order === 'backups-first') {
    const ordered = orderDirectors(runs.map((r) => r.desired), env.addressesAtStart)
    return directorWaves(ordered, env.parallel).map((w) => w.map((d) => byName.get(d.name)!))
  }
  return chunks(runs, env.parallel)
}

export async function runRollout(playbook: Playbook, runs: HostRun[], env: RolloutEnv): Promise<RolloutResult> {
  const started = Date.now()
  const shells = new Map<string, Promise<HostShell>>()
  const shellFor = (d: DesiredHost): Promise<HostShell> => {
    let s = shells.get(d.name)
    if (!s) {
      s = env.connect(d)
      shells.set(d.name, s)
      s.catch(() => shells.delete(d.name))
    }
    return s
  }
  // Read once, the first time a host's select-release asks: every host in play (--parallel at a
  // time), for the decision.
  let decision: Promise<RollbackDecision> | undefined
  const rollbackDecision = (): Promise<RollbackDecision> =>
    (decision ??= mapSettledLimit(runs, env.parallel, async (r) => readReleases(await shellFor(r.desired), r.desired.name)).then((settled) =>
      decideRollback(settled.map((s, i) => (s.status === 'fulfilled' ? s.value : {host: runs[i]!.desired.name, current: null, releases: [], error: (s.reason as Error).message}))),
    ))
  const ctx: ActionContext = {env, shellFor, rollbackDecision}
  let stopped = false
  let locked: RolloutResult['locked']

  async function fail(run: HostRun, step: string, error: unknown): Promise<void> {
    stopped = true
    run.step = step
    run.error = (error as Error).message
    if (error instanceof StepError && error.kind === 'locked') {
      run.state = 'failed-nothing-switched'
      locked ??= {host: run.desired.name, holder: error.message.replace(/^.* is locked by /, '')}
      return
    }
    if (!run.switched) {
      if (run.uploaded && run.target && run.shell) await run.shell.exec(discardReleaseScript(run.target.id)).catch(() => undefined)
      run.state = 'failed-nothing-switched'
      run.finalRelease = run.startRelease ?? null
      return
    }
    try {
      env.progress({type: 'step', host: run.desired.name, phase: 'rollback', step: 'automatic rollback'})
      run.notes.push(await restoreStart(run, ctx))
      run.state = 'rolled-back'
      run.finalRelease = run.startRelease ?? null
    } catch (e) {
      run.state = 'rollback-failed'
      run.notes.push(`automatic rollback failed: ${(e as Error).message}`)
      run.finalRelease = undefined
    }
  }

  async function runHost(run: HostRun, phase: PlaybookPhase): Promise<void> {
    env.progress({type: 'host-start', host: run.desired.name, phase: phase.name})
    let current = 'connect'
    try {
      run.shell ??= await shellFor(run.desired)
      run.state = 'running'
      for (const step of phase.steps) {
        current = step.name ?? step.action
        run.step = current
        env.progress({type: 'step', host: run.desired.name, phase: phase.name, step: current})
        await ACTIONS[step.action](run, step, ctx)
      }
      run.step = undefined
      env.progress({type: 'host-end', host: run.desired.name, phase: phase.name, ok: true})
    } catch (error) {
      await fail(run, current, error)
      env.progress({type: 'host-end', host: run.desired.name, phase: phase.name, ok: false, message: run.error})
    }
  }

  try {
    for (const phase of playbook.phases) {
      if (stopped) break
      const members = runs.filter((r) => selects(phase, r.desired) && (r.state === 'pending' || r.state === 'running'))
      for (const group of groups(phase, members, env)) {
        if (stopped) break
        await Promise.all(group.map((r) => runHost(r, phase)))
      }
    }
  } finally {
    // Releases staged on hosts the rollout never switched: removed, so the host is as it was.
    await Promise.all(
      runs.map(async (r) => {
        // (A host that failed was handled by fail().)
        if (!stopped || !r.uploaded || r.switched || !r.target || r.error) return
        try {
          await (await shellFor(r.desired)).exec(discardReleaseScript(r.target.id), {timeoutMs: 15_000})
        } catch {
          r.notes.push(`release ${r.target.id} was staged but not switched to; it could not be removed (the next apply prunes it)`)
        }
      }),
    )
    await Promise.all(
      runs.map(async (r) => {
        if (!r.locked) return
        try {
          // A connection that dropped mid-step cannot release it: try a fresh one.
          const s = r.shell ?? (await shellFor(r.desired))
          const res = await s.exec(unlockScript(env.holder), {timeoutMs: 15_000}).catch(async () => {
            shells.delete(r.desired.name)
            return (await shellFor(r.desired)).exec(unlockScript(env.holder), {timeoutMs: 15_000})
          })
          if (res.code === 0) r.locked = false
        } catch {
          r.notes.push('could not release its lock (host unreachable): the next run takes it over')
        }
      }),
    )
  }

  for (const r of runs) {
    if (r.state === 'running' || r.state === 'pending') {
      const changed = r.switched || (env.mode === 'rollback' && r.target?.id === r.startRelease)
      if (!stopped || changed) {
        r.state = 'done'
        r.finalRelease = r.target?.id ?? r.startRelease ?? null
      } else {
        r.state = 'not-touched'
        r.finalRelease = r.startRelease ?? null
      }
    }
  }
  for (const s of shells.values()) s.then((x) => x.close()).catch(() => undefined)
  const undone = decision ? (await decision).rollout : null
  return {
    mode: env.mode,
    playbook: playbook.source,
    ok: !stopped,
    ...(env.mode === 'apply' && env.rollout !== undefined ? {rollout: env.rollout} : {}),
    ...(undone ? {undone_rollout: undone} : {}),
    ...(locked ? {locked} : {}),
    hosts: runs.map((r) => ({
      host: r.desired.name,
      roles: [...r.desired.roles],
      state: r.state,
      release_before: r.startRelease ?? null,
      release_after: r.finalRelease === undefined ? null : r.finalRelease,
      ...(r.step && r.error ? {step: r.step} : {}),
      ...(r.error ? {error: r.error} : {}),
      notes: r.notes,
    })),
    seconds: (Date.now() - started) / 1000,
  }
}
