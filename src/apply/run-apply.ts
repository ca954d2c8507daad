/**
 * apply, rollback and releases without oclif: the plan (fresh or saved), the checks before
 * touching anything, the rollout. Commands call these and render what they return.
 */
import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {hostname, userInfo} from 'node:os'
import {setTimeout as sleep} from 'node:timers/promises'
import type {DesiredHost} from '../model/desired-state.js'
import type {ActualHost} from '../model/actual-state.js'
import type {Plan, SavedPlan} from '../model/plan.js'
import type {HostReleases} from '../model/release.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {runPlan, selectHosts, type PlanPipeline} from '../plan/run-plan.js'
import {readSavedPlan} from '../plan/saved-plan.js'
import {staleHosts} from '../plan/fingerprint.js'
import {defaultKaopsdPath, kaopsdArtifact} from '../plan/kaopsd-artifact.js'
import {gatherActualState, type GatherOptions} from '../remote/gather.js'
import {RemoteHost} from '../remote/connection.js'
import {newHostRun, type HostShell} from './host-run.js'
import {kaopsdBinaryOf, keepReleasesOf} from './inventory-modules.js'
import {inventoryRevision} from './inventory-revision.js'
import {kaopsdPayload} from './kaopsd-payload.js'
import {activeRuns, formatHolder} from './lock.js'
import {defaultPlaybookPath, loadPlaybook} from './playbook-load.js'
import {listReleases} from './releases-list.js'
import {makeRolloutId} from './release-id.js'
import {runRollout, type RolloutResult} from './rollout.js'
import type {ProgressEvent, RolloutEnv} from './rollout-env.js'

export interface RolloutOptions {
  parallel?: number
  hosts?: string[]
  playbook?: string
  progress?: (e: ProgressEvent) => void
  /** Connect to a host; default RemoteHost.connect (tests may pass another). */
  connect?: (d: DesiredHost) => Promise<HostShell>
  gather?: (desired: DesiredHost[], opts: GatherOptions) => Promise<Map<string, ActualHost | Error>>
  /** Wraps the rollout itself (the command shows listr2 progress around it), given the hosts in play. */
  around?: (hosts: string[], rollout: () => Promise<RolloutResult>) => Promise<RolloutResult>
}

export interface ApplyOptions extends RolloutOptions {
  /** Asked (with the plan) before acting; not called for a saved plan. Return false to stop. */
  confirm?: (plan: Plan) => Promise<boolean>
  /** Local kaopsd executable (default: inventory kaopsd.binary, $KAOPS_KAOPSD, dist/kaopsd). */
  kaopsdPath?: string
}

export interface ApplyOutcome {
  plan: Plan
  /** Saved plan given instead of an inventory. */
  fromSavedPlan: boolean
  skipped?: 'no-changes' | 'declined'
  result?: RolloutResult
}

function holderFor(op: string): {holder: string; machine: string; token: string} {
  const machine = hostname()
  const token = randomBytes(4).toString('hex')
  let user = 'unknown'
  try {
    user = userInfo().username
  } catch {
    /* no passwd entry */
  }
  return {holder: formatHolder({user, machine, pid: process.pid, since: new Date().toISOString(), op, run: token}), machine, token}
}

async function isSavedPlanFile(path: string): Promise<boolean> {
  try {
    const head = (await readFile(path, 'utf8')).trimStart()
    return head.startsWith('{')
  } catch {
    return false
  }
}

const defaultConnect = (d: DesiredHost): Promise<HostShell> => RemoteHost.connect(d.ssh)

function refuseErrors(plan: Plan): void {
  if (plan.errors.length === 0) return
  throw new KaopsError(`cannot apply: ${plan.errors.map((e) => e.message).join('; ')}`, {
    exit: ExitCode.unreachable,
    details: plan.errors.map((e) => ({host: e.host, message: e.message})),
    suggestions: ['apply needs every host it plans for; fix or leave out the host (--host) and run again'],
  })
}

export async function runApply<I>(target: string, pipeline: PlanPipeline<I>, opts: ApplyOptions = {}): Promise<ApplyOutcome> {
  const parallel = opts.parallel ?? 10
  const gather = opts.gather ?? gatherActualState
  let plan: Plan
  let desired: DesiredHost[]
  let actual: Map<string, ActualHost | Error>
  let inventory: unknown
  let fromSavedPlan = false
  let kaopsdPath = opts.kaopsdPath
  if (await isSavedPlanFile(target)) {
    fromSavedPlan = true
    const saved: SavedPlan = await readSavedPlan(target)
    desired = saved.desired
    actual = await gather(desired, {parallel})
    const stale = staleHosts(saved, actual)
    if (stale.length > 0) {
      throw new KaopsError(`the saved plan ${target} is stale: ${stale.map((s) => `${s.host}: ${s.reason}`).join('; ')}`, {
        suggestions: ['make a new plan (kaops plan INVENTORY --out FILE) and review it'],
      })
    }
    plan = saved
    kaopsdPath ??= defaultKaopsdPath()
    if (saved.kaopsd_sha256) {
      const art = await kaopsdArtifact(kaopsdPath)
      if (art?.sha256 !== saved.kaopsd_sha256) {
        throw new KaopsError(`the saved plan expects kaopsd ${saved.kaopsd_sha256.slice(0, 12)}, but ${kaopsdPath} is ${art ? art.sha256.slice(0, 12) : 'missing'}`, {
          suggestions: ['make a new plan with the kaopsd you mean to ship'],
        })
      }
    }
  } else {
    const capture: PlanPipeline<I> = {
      ...pipeline,
      loadInventory: async (p) => {
        const inv = await pipeline.loadInventory(p)
        inventory = inv
        return inv
      },
      gather,
    }
    // The inventory can name the binary; it is only known once loaded, so plan with the default first.
    const art = await kaopsdArtifact(opts.kaopsdPath ?? defaultKaopsdPath())
    const run = await runPlan(target, capture, {parallel, ...(opts.hosts ? {hosts: opts.hosts} : {}), ...(art ? {kaopsd: art} : {})})
    ;({plan, desired, actual} = run)
    kaopsdPath ??= kaopsdBinaryOf(inventory) ?? defaultKaopsdPath()
    if (kaopsdPath !== art?.path) {
      const again = await kaopsdArtifact(kaopsdPath)
      if (again) ({plan, desired, actual} = await runPlan(target, capture, {parallel, ...(opts.hosts ? {hosts: opts.hosts} : {}), kaopsd: again}))
    }
  }
  refuseErrors(plan)
  if (!plan.has_changes) return {plan, fromSavedPlan, skipped: 'no-changes'}
  if (!fromSavedPlan && opts.confirm && !(await opts.confirm(plan))) return {plan, fromSavedPlan, skipped: 'declined'}

  const changed = new Set(plan.hosts.filter((h) => h.summary.create + h.summary.update + h.summary.delete > 0).map((h) => h.host))
  const runs = desired.filter((d) => changed.has(d.name)).map((d) => newHostRun(d, plan.hosts.find((h) => h.host === d.name)))
  const art = await kaopsdArtifact(kaopsdPath)
  const env = makeEnv('apply', desired, actual, {
    ...opts,
    keepReleases: keepReleasesOf(inventory),
    ...(art ? {kaopsd: () => kaopsdPayload(art.path)} : {}),
    inventory: plan.inventory ?? target,
    inventoryRevision: plan.inventory ? await inventoryRevision(plan.inventory) : undefined,
  })
  const playbook = await loadPlaybook(opts.playbook ?? defaultPlaybookPath('apply'))
  const go = () => withToken(env, () => runRollout(playbook, runs, env.env))
  const result = opts.around ? await opts.around(runs.map((r) => r.desired.name), go) : await go()
  return {plan, fromSavedPlan, result}
}

function makeEnv(
  mode: 'apply' | 'rollback',
  desired: DesiredHost[],
  actual: Map<string, ActualHost | Error>,
  o: RolloutOptions & {keepReleases: number; kaopsd?: RolloutEnv['kaopsd']; inventory?: string; inventoryRevision?: string | undefined; rollbackTo?: string},
): {env: RolloutEnv; token: string} {
  const {holder, machine, token} = holderFor(mode)
  const env: RolloutEnv = {
    mode,
    directors: desired.filter((d) => d.roles.includes('director')),
    connect: o.connect ?? defaultConnect,
    addressesAtStart: (name) => {
      const a = actual.get(name)
      return a && !(a instanceof Error) ? a.addresses : undefined
    },
    parallel: o.parallel ?? 10,
    keepReleases: o.keepReleases,
    holder,
    machine,
    now: () => new Date(),
    sleep: (ms) => sleep(ms),
    progress: o.progress ?? (() => {}),
  }
  if (o.kaopsd) env.kaopsd = o.kaopsd
  if (o.inventory !== undefined) env.inventory = o.inventory
  if (o.inventoryRevision !== undefined) env.inventoryRevision = o.inventoryRevision
  if (o.rollbackTo !== undefined) env.rollbackTo = o.rollbackTo
  // One id for the whole apply, in every release it makes: what `kaops rollback` undoes as one.
  // A rollback makes no releases (it switches to existing ones), so it has none.
  if (mode === 'apply') env.rollout = makeRolloutId(new Date(), token)
  return {env, token}
}

async function withToken<R>(e: {env: RolloutEnv; token: string}, fn: () => Promise<R>): Promise<R> {
  activeRuns.add(e.token)
  try {
    return await fn()
  } finally {
    activeRuns.delete(e.token)
  }
}

export interface RollbackOptions extends RolloutOptions {
  to?: string
}

export async function runRollback<I>(inventoryPath: string, pipeline: PlanPipeline<I>, opts: RollbackOptions = {}): Promise<RolloutResult> {
  const inventory = await pipeline.loadInventory(inventoryPath)
  const desired = selectHosts(pipeline.renderHosts(inventory), opts.hosts)
  const gather = opts.gather ?? pipeline.gather ?? gatherActualState
  const actual = await gather(desired, {parallel: opts.parallel ?? 10})
  const bad = [...actual.entries()].filter(([, a]) => a instanceof Error)
  if (bad.length > 0) {
    throw new KaopsError(`cannot roll back: ${bad.map(([, e]) => (e as Error).message).join('; ')}`, {
      exit: ExitCode.unreachable,
      details: bad.map(([host, e]) => ({host, message: (e as Error).message})),
    })
  }
  const runs = desired.map((d) => newHostRun(d))
  const env = makeEnv('rollback', desired, actual, {...opts, keepReleases: keepReleasesOf(inventory), inventory: inventoryPath, ...(opts.to ? {rollbackTo: opts.to} : {})})
  const playbook = await loadPlaybook(opts.playbook ?? defaultPlaybookPath('rollback'))
  const go = () => withToken(env, () => runRollout(playbook, runs, env.env))
  return opts.around ? opts.around(runs.map((r) => r.desired.name), go) : go()
}

export async function runReleases<I>(inventoryPath: string, pipeline: PlanPipeline<I>, opts: RolloutOptions = {}): Promise<HostReleases[]> {
  const inventory = await pipeline.loadInventory(inventoryPath)
  const desired = selectHosts(pipeline.renderHosts(inventory), opts.hosts)
  return listReleases(desired, opts.connect ?? defaultConnect, opts.parallel ?? 10)
}
