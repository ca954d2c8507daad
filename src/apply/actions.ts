/**
 * The fixed catalog of playbook actions. Each takes one host's run state and the step's
 * parameters, talks to the host through its shell, and throws StepError to stop that host.
 * The scripts themselves are built, purely, in host-scripts.ts.
 */
import {createHash} from 'node:crypto'
import {posix} from 'node:path'
import {configHashOf} from '../model/config-hash.js'
import type {DesiredHost} from '../model/desired-state.js'
import {shq} from '../remote/shell-quote.js'
import {RELEASES_DIR} from './host-layout.js'
import type {ActionName, PlaybookStep} from '../model/playbook.js'
import type {ReleaseManifest} from '../model/release.js'
import {isKaopsdUnit} from '../plan/classify.js'
import {KAOPSD_CONFIG_PATH, KAOPSD_UNIT, KAOPSD_UNIT_PATH, REPLACED_DAEMON_UNIT} from '../render/paths.js'
import {evaluateGate, gateMembers, gateProbeScript, holdersOf, parseGateProbe, type GateObservation} from './gate.js'
import {heldVips, takeoverPeers} from './handover-choice.js'
import type {HostRun, HostShell} from './host-run.js'
import * as S from './host-scripts.js'
import {isStaleHere, lockScript, parseLockOutput, unlockScript} from './lock.js'
import {pidAlive} from '../local/pid-alive.js'
import {buildManifest, parseManifest} from './manifest.js'
import {isReleaseId, releasesToPrune, rollbackTarget} from './release-id.js'
import type {RollbackDecision} from './rollback-decision.js'
import type {RolloutEnv} from './rollout-env.js'

export class StepError extends Error {
  constructor(
    message: string,
    readonly kind: 'failed' | 'locked' = 'failed',
  ) {
    super(message)
  }
}

export interface ActionContext {
  env: RolloutEnv
  /** A connection to any inventory host (peers for gates), kept for the whole rollout. */
  shellFor(host: DesiredHost): Promise<HostShell>
  /** Rollback: which hosts move where, decided once from every host in play (see rollback-decision.ts). */
  rollbackDecision(): Promise<RollbackDecision>
}

type Action = (run: HostRun, step: PlaybookStep, ctx: ActionContext) => Promise<void>

async function sh(run: HostRun, script: string, what: string, opts: {timeoutMs?: number} = {}): Promise<string> {
  const r = await run.shell!.exec('sh -s', {stdin: script, timeoutMs: opts.timeoutMs ?? 120_000})
  if (r.code !== 0) throw new StepError(failure(run, what, r, (r.stderr || r.stdout)))
  return r.stdout
}

/** One line for a failed script; no exit status at all means the connection went away under it. */
function failure(run: HostRun, what: string, r: {code: number | null; signal?: string}, output: string): string {
  if (r.code === null && !r.signal) return `${what} failed on ${run.desired.name}: the SSH connection was lost (no exit status)`
  const tail = output.trim().split('\n').slice(-3).join(' / ')
  return `${what} failed on ${run.desired.name} (${r.code === null ? `signal ${r.signal}` : `exit ${r.code}`})${tail ? `: ${tail}` : ''}`
}

/** A script whose stdin is data (the kaopsd payload): the script goes on the command line. */
async function shData(run: HostRun, script: string, data: Buffer, what: string): Promise<string> {
  const r = await run.shell!.exec(`sh -c ${shq(script)}`, {stdin: data, timeoutMs: 600_000})
  if (r.code !== 0) throw new StepError(failure(run, what, r, r.stderr))
  return r.stdout
}

const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d)
const isDirector = (run: HostRun) => run.desired.roles.includes('director')
const daemonUnit = (run: HostRun) => run.desired.units.find((u) => isKaopsdUnit(u.name))?.name ?? KAOPSD_UNIT

export async function inspect(run: HostRun): Promise<void> {
  if (run.inspection) return
  const out = await sh(run, S.inspectScript(), 'reading releases')
  run.inspection = S.parseInspection(out)
  run.startRelease = run.inspection.current
  run.startManifest = run.inspection.currentManifestText ? (parseManifest(run.inspection.currentManifestText) ?? null) : null
}

const lock: Action = async (run, _step, {env}) => {
  const take = async (steal?: string) => parseLockOutput(await sh(run, lockScript(env.holder, steal === undefined ? {} : {steal}), 'taking the lock'))
  let r = await take()
  if (!r.taken && isStaleHere(r.holder, env.machine, pidAlive)) {
    run.notes.push(`took over a stale lock (${r.holder})`)
    r = await take(r.holder)
  }
  if (!r.taken) throw new StepError(`${run.desired.name} is locked by ${r.holder}`, 'locked')
  run.locked = true
  run.holder = env.holder
  await inspect(run)
}

const unlock: Action = async (run, _step, {env}) => {
  if (!run.locked) return
  await sh(run, unlockScript(env.holder), 'releasing the lock')
  run.locked = false
}

const uploadRelease: Action = async (run, _step, {env}) => {
  await inspect(run)
  const cur = run.inspection!
  let kaopsd: {sha256: string} | undefined
  let payload
  if (isDirector(run)) {
    payload = env.kaopsd ? await env.kaopsd() : undefined
    if (payload) kaopsd = {sha256: payload.sha256}
    else if (cur.currentKaopsdSha) kaopsd = {sha256: cur.currentKaopsdSha}
    else throw new StepError(`no kaopsd executable to send to ${run.desired.name} (build it with \`npm run build\` or set KAOPS_KAOPSD)`)
  }
  const m = buildManifest(run.desired, {
    now: env.now(),
    createdBy: env.holder.split(' ')[0]!,
    ...(kaopsd ? {kaopsd} : {}),
    ...(env.inventory !== undefined ? {inventory: env.inventory} : {}),
    ...(env.inventoryRevision !== undefined ? {inventoryRevision: env.inventoryRevision} : {}),
    ...(env.rollout !== undefined ? {rollout: env.rollout} : {}),
    previousRelease: cur.current,
  })
  run.target = m
  run.uploaded = true
  await sh(run, S.uploadFilesScript(m, run.desired.files), 'uploading the release files')
  if (kaopsd) {
    if (cur.current && cur.currentKaopsdSha === kaopsd.sha256) {
      await sh(run, S.linkKaopsdScript(m.id, cur.current), 'reusing kaopsd')
      run.notes.push('kaopsd unchanged (linked from the current release)')
    } else {
      await shData(run, S.receiveKaopsdScript(m.id, kaopsd.sha256), payload!.gzipped, 'sending kaopsd')
      run.notes.push(`kaopsd sent (${(payload!.gzipped.length / 1e6).toFixed(1)} MB gzip, sha256 checked)`)
    }
  }
  await sh(run, S.finalizeScript(m.id, kaopsd?.sha256 ?? null), 'finishing the release')
  run.binaryChanged = (kaopsd?.sha256 ?? null) !== (run.startManifest?.kaopsd?.sha256 ?? cur.currentKaopsdSha ?? null)
  run.notes.push(`release ${m.id}`)
}

/**
 * Rollback: the release to return to. --to names it per host; otherwise the site-wide decision
 * (undo the last apply) says whether this host moves and where. The decision was read from
 * every host, some before this rollout locked them: this host's current release, read under
 * its lock, must be the one the decision saw, or another apply ran in between.
 */
const selectRelease: Action = async (run, _step, ctx) => {
  const {env} = ctx
  await inspect(run)
  const cur = run.inspection!
  let id: string
  if (env.rollbackTo !== undefined) {
    const t = rollbackTarget(cur.entries.filter(isReleaseId), cur.current, env.rollbackTo)
    if ('error' in t) throw new StepError(`${run.desired.name}: ${t.error}`)
    id = t.id
  } else {
    const d = (await ctx.rollbackDecision()).hosts.find((h) => h.host === run.desired.name)
    if (!d) throw new StepError(`${run.desired.name}: not in the rollback decision`)
    if (d.action === 'error') throw new StepError(d.error)
    if (d.current !== cur.current) {
      throw new StepError(`${run.desired.name}: its current release changed from ${d.current ?? 'none'} to ${cur.current ?? 'none'} while the rollback read the hosts (another apply?); run the rollback again`)
    }
    run.notes.push(d.note)
    if (d.action === 'stay') {
      run.state = 'unchanged'
      run.finalRelease = cur.current
      return
    }
    id = d.to
  }
  const out = await sh(run, `cat ${shq(posix.join(RELEASES_DIR, id, 'manifest.json'))}`, `reading release ${id}`)
  const m = parseManifest(out)
  if (!m) throw new StepError(`${run.desired.name}: release ${id} has no readable manifest.json`)
  run.target = m
  run.binaryChanged = (m.kaopsd?.sha256 ?? null) !== (cur.currentKaopsdSha ?? null)
  if (id === cur.current) {
    run.notes.push(`already on ${id}`)
  }
}

const configTest: Action = async (run, step) => {
  if (!run.target || !isDirector(run) || !run.target.files.some((f) => f.path === KAOPSD_CONFIG_PATH)) return
  const r = await run.shell!.exec(S.configTestScript(run.target.id), {timeoutMs: num(step.params['timeout'], 30) * 1000})
  if (r.code !== 0) {
    const why = (r.stdout + r.stderr).trim().split('\n').slice(-5).join(' / ')
    if (run.uploaded) await run.shell!.exec(S.discardReleaseScript(run.target.id)).catch(() => undefined)
    run.uploaded = false
    throw new StepError(`kaopsd rejected the new config on ${run.desired.name}: ${why || `exit ${r.code}`}`)
  }
}

const switchRelease: Action = async (run) => {
  if (!run.target) throw new StepError(`${run.desired.name}: no release to switch to (upload-release or select-release must come first)`)
  if (run.inspection?.current === run.target.id) return
  await sh(run, S.switchScript(run.target.id), 'switching the current release')
  run.switched = true
}

const installFiles: Action = async (run) => {
  if (!run.target) return
  const out = await sh(run, S.installFilesScript(run.target), 'installing the files')
  const {changed, deleted} = S.parseInstallOutput(out)
  run.changedPaths.push(...changed, ...deleted)
  if (changed.length + deleted.length > 0) run.notes.push(`files: ${changed.length} written, ${deleted.length} deleted`)
}

const applySysctl: Action = async (run) => {
  if (run.target && (run.target.sysctl.length > 0 || run.target.files.length > 0)) await sh(run, S.sysctlScript(run.target), 'applying sysctl')
}

const prepareRealServers: Action = async (run) => {
  if (!run.target) return
  const want = run.target.loopbackVips
  const had = new Set([...(run.startManifest?.loopbackVips ?? []), ...(run.plan?.changes.filter((c) => c.kind === 'loopback-vip' && c.action === 'delete').map((c) => c.id) ?? [])])
  const remove = [...had].filter((c) => !want.some((w) => w.split('/')[0] === c.split('/')[0]))
  if (want.length + remove.length > 0) await sh(run, S.loopbackScript(want, remove), 'setting the loopback VIPs')
}

const applyFirewall: Action = async (run) => {
  if (!run.target) return
  await sh(run, S.firewallScript(run.target, run.changedPaths), 'loading the firewall rules')
}

const installUnits: Action = async (run) => {
  if (!run.target) return
  await sh(run, S.unitsScript(run.target, run.changedPaths, isKaopsdUnit), 'installing the units')
}

const needsRestart = (run: HostRun) => run.binaryChanged || run.changedPaths.includes(KAOPSD_UNIT_PATH)

async function observe(ctx: ActionContext, d: DesiredHost, unit: string): Promise<GateObservation> {
  try {
    const s = await ctx.shellFor(d)
    const r = await s.exec(gateProbeScript(unit), {timeoutMs: 15_000})
    return parseGateProbe(d.name, r.stdout)
  } catch (error) {
    return {host: d.name, active: 'unknown', addresses: [], error: `cannot read its state: ${(error as Error).message}`}
  }
}

async function replacedDaemon(run: HostRun): Promise<{active: boolean; enabled: boolean}> {
  const r = await run.shell!.exec(S.replacedDaemonStateScript(REPLACED_DAEMON_UNIT), {timeoutMs: 15_000})
  return S.parseReplacedDaemonState(r.stdout)
}

/**
 * Hand this host's VIPs to a peer before its daemon stops (a kaopsd restart, or kaopsd replacing
 * a running keepalived). Make before break: the peer's kaopsd takes them over at priority 254
 * for a lease while this host still holds them, and this host's daemon lets go only on hearing
 * it, so some director holds every VIP at every moment. Without a peer kaopsd that can (an old
 * kaopsd, a keepalived peer), fall back to a graceful stop: priority 0, the VIPs unheld for the
 * peer's Skew_Time.
 */
const handover: Action = async (run, step, ctx) => {
  if (!isDirector(run)) return
  const unit = daemonUnit(run)
  const legacy = (await replacedDaemon(run)).active
  if (!legacy && !needsRestart(run)) return
  const members = gateMembers(run.desired, ctx.env.directors)
  const peers = members.filter((m) => m.name !== run.desired.name)
  const me = await observe(ctx, run.desired, unit)
  if (!legacy && me.active !== 'active') return
  const mine = heldVips(run.desired, me)
  if (mine.length === 0 || peers.length === 0) return
  const timeout = num(step.params['timeout'], 15)
  const lease = num(step.params['lease'], 120)
  const names = mine.map((v) => v.instance)
  const byName = new Map(peers.map((p) => [p.name, p]))
  const chosen = takeoverPeers(names, await Promise.all(peers.map((p) => observe(ctx, p, unit))), byName)
  let how = ''
  if (chosen) {
    try {
      for (const [peer, instances] of chosen) {
        const shell = await ctx.shellFor(byName.get(peer)!)
        const r = await shell.exec('sh -s', {stdin: S.takeoverScript(instances, {leaseSeconds: lease}), timeoutMs: 20_000})
        if (r.code !== 0) throw new Error(`${peer}: ${(r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.code}`}`)
        run.takeovers.push({peer: byName.get(peer)!, instances})
      }
      how = `${[...chosen].map(([p, i]) => `${p} took over ${i.join(', ')}`).join('; ')} before ${run.desired.name} let go`
    } catch (error) {
      // An older kaopsd without `takeover`, say: end what was started, then the graceful way.
      run.notes.push(`takeover refused (${(error as Error).message}); graceful stop instead`)
      await endTakeovers(run, ctx)
    }
  }
  if (run.takeovers.length === 0) {
    // A graceful stop sends priority 0: the best backup takes over after Skew_Time instead of the master-down interval.
    await sh(run, S.systemctlScript('stop', legacy ? REPLACED_DAEMON_UNIT : unit), `stopping ${legacy ? 'keepalived' : 'kaopsd'} for the handover`)
    if (legacy) run.retiredDaemon = true
    else run.stoppedForHandover = true
    how = `graceful stop of ${legacy ? 'keepalived' : 'kaopsd'} (priority 0): ${names.join(', ')} unheld for a peer's skew time`
  }
  const deadline = Date.now() + timeout * 1000
  for (;;) {
    const obs = await Promise.all(members.map((p) => observe(ctx, p, unit)))
    const moved = mine.every((v) => {
      const h = holdersOf(v, obs)
      return h.length === 1 && h[0] !== run.desired.name
    })
    if (moved) break
    if (Date.now() > deadline) throw new StepError(`no peer took over ${names.join(', ')} from ${run.desired.name} within ${timeout} s`)
    await ctx.env.sleep(100)
  }
  run.notes.push(`handed ${names.join(', ')} over: ${how}`)
}

/** End the takeovers this host's handover started (best effort: the lease ends them anyway). */
async function endTakeovers(run: HostRun, ctx: ActionContext): Promise<string[]> {
  const problems: string[] = []
  for (const t of run.takeovers.splice(0)) {
    try {
      const shell = await ctx.shellFor(t.peer)
      const r = await shell.exec('sh -s', {stdin: S.takeoverScript(t.instances, {end: true}), timeoutMs: 20_000})
      if (r.code !== 0) problems.push(`${t.peer.name}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`)
    } catch (error) {
      problems.push(`${t.peer.name}: ${(error as Error).message}`)
    }
  }
  return problems
}

/** keepalived.service stops for good (it is BACKUP by now, or holds nothing) before kaopsd starts. */
const retireKeepalived: Action = async (run) => {
  if (!isDirector(run)) return
  const st = await replacedDaemon(run)
  if (!st.active && !st.enabled) return
  await sh(run, S.retireDaemonScript(REPLACED_DAEMON_UNIT), `stopping and disabling ${REPLACED_DAEMON_UNIT}`)
  run.retiredDaemon = true
  run.notes.push(`${REPLACED_DAEMON_UNIT} stopped and disabled (kaopsd replaces it; /etc/keepalived left as it was)`)
}

/**
 * Once this host's kaopsd runs every instance again (BACKUP, hearing the peer), the peer drops to
 * its own priority. It stays MASTER; this host, if it has the higher priority and preempts, takes
 * the VIPs back after its master-down interval, again without a gap.
 */
const handBack: Action = async (run, step, ctx) => {
  if (run.takeovers.length === 0) return
  const unit = daemonUnit(run)
  const timeout = num(step.params['timeout'], 30)
  const wanted = new Set(run.takeovers.flatMap((t) => t.instances))
  const deadline = Date.now() + timeout * 1000
  for (;;) {
    const me = await observe(ctx, run.desired, unit)
    const running = me.status?.instances?.filter((i) => wanted.has(i.name) && (i.state === 'BACKUP' || i.state === 'MASTER')) ?? []
    if (me.active === 'active' && running.length === wanted.size) break
    if (Date.now() > deadline) {
      // Leave the peer raised: it serves the VIPs until its lease ends. The gate reports the rest.
      run.notes.push(`kaopsd on ${run.desired.name} did not run ${[...wanted].join(', ')} within ${timeout} s; the peer keeps them until its lease ends`)
      return
    }
    await ctx.env.sleep(200)
  }
  const peers = run.takeovers.map((t) => t.peer.name).join(', ')
  const problems = await endTakeovers(run, ctx)
  if (problems.length > 0) throw new StepError(`ending the takeover on ${problems.join('; ')}`)
  run.notes.push(`takeover ended on ${peers}`)
}

const reloadOrRestart: Action = async (run) => {
  if (!isDirector(run)) return
  const unit = daemonUnit(run)
  const r = await run.shell!.exec(`systemctl is-active ${unit}`, {timeoutMs: 15_000})
  const active = r.stdout.trim() === 'active'
  if (!active) {
    await sh(run, S.systemctlScript('start', unit), 'starting kaopsd')
    run.notes.push(run.stoppedForHandover ? 'restarted kaopsd (after the handover)' : 'started kaopsd')
  } else if (needsRestart(run)) {
    await sh(run, S.systemctlScript('restart', unit), 'restarting kaopsd')
    run.notes.push('restarted kaopsd')
  } else if (run.changedPaths.includes(KAOPSD_CONFIG_PATH)) {
    await sh(run, S.systemctlScript('reload', unit), 'reloading kaopsd')
    run.notes.push('reloaded kaopsd (SIGHUP)')
  }
}

/**
 * The configHash kaopsd reports once it runs this release's config: known when the release
 * carries the rendered file (apply), not for a rollback to a release whose text we do not hold.
 */
function expectedConfigHash(run: HostRun): string | undefined {
  const rendered = run.desired.files.find((f) => f.path === KAOPSD_CONFIG_PATH)
  const shipped = run.target?.files.find((f) => f.path === KAOPSD_CONFIG_PATH)
  if (!rendered || !shipped || shipped.sha256 !== createHash('sha256').update(rendered.content, 'utf8').digest('hex')) return undefined
  return configHashOf(KAOPSD_CONFIG_PATH, rendered.content)
}

const healthGate: Action = async (run, step, ctx) => {
  if (!isDirector(run)) return
  const unit = daemonUnit(run)
  const members = gateMembers(run.desired, ctx.env.directors)
  const placement = step.params['placement'] === 'any' ? 'any' : 'plan'
  const timeout = num(step.params['timeout'], 30)
  const deadline = Date.now() + timeout * 1000
  let first: GateObservation[] | undefined
  for (;;) {
    const obs = await Promise.all(members.map((m) => observe(ctx, m, unit)))
    const v = evaluateGate(run.desired.name, run.desired.vips, obs, placement, (first ??= obs), expectedConfigHash(run))
    if (v.ok) {
      run.notes.push(`healthy: ${Object.entries(v.holders).map(([i, h]) => `${i} on ${h.join(',')}`).join('; ') || 'no VIPs'}`)
      return
    }
    if (Date.now() > deadline) throw new StepError(`health gate failed on ${run.desired.name} after ${timeout} s: ${v.problems.join('; ')}`)
    await ctx.env.sleep(500)
  }
}

const pruneReleases: Action = async (run, step, {env}) => {
  const out = await sh(run, S.inspectScript(), 'listing releases')
  const ins = S.parseInspection(out)
  const keep = typeof step.params['keep'] === 'number' ? step.params['keep'] : env.keepReleases
  const drop = releasesToPrune(ins.entries, ins.current, keep)
  if (drop.length > 0 || ins.entries.some((e) => e.endsWith('.partial'))) {
    await sh(run, S.pruneScript(drop), 'pruning releases')
    if (drop.length > 0) run.notes.push(`pruned ${drop.length} old release(s)`)
  }
}

const runCommand: Action = async (run, step) => {
  const cmd = String(step.params['command'])
  const script = `KAOPS_HOST=${shq(run.desired.name)} KAOPS_RELEASE=${shq(run.target?.id ?? '')}; export KAOPS_HOST KAOPS_RELEASE\n${cmd}`
  await sh(run, script, `step "${step.name ?? 'run'}"`, {timeoutMs: num(step.params['timeout'], 60) * 1000})
}

const wait: Action = async (_run, step, {env}) => {
  await env.sleep(num(step.params['seconds'], 1) * 1000)
}

export const ACTIONS: Record<ActionName, Action> = {
  lock,
  unlock,
  'upload-release': uploadRelease,
  'select-release': selectRelease,
  'config-test': configTest,
  'switch-release': switchRelease,
  'install-files': installFiles,
  'apply-sysctl': applySysctl,
  'prepare-real-servers': prepareRealServers,
  'apply-firewall': applyFirewall,
  'install-units': installUnits,
  'handover-mastership': handover,
  'retire-keepalived': retireKeepalived,
  'reload-or-restart': reloadOrRestart,
  'hand-back-mastership': handBack,
  'health-gate': healthGate,
  'prune-releases': pruneReleases,
  run: runCommand,
  wait,
}

/**
 * Put a host that failed after its switch back on the release it started from: the same
 * actions, aimed at the start manifest. Without one (first apply), stop kaopsd so a broken
 * daemon holds no VIP. Returns what was done.
 */
export async function restoreStart(run: HostRun, ctx: ActionContext): Promise<string> {
  const back = run.startManifest
  if (!back) {
    let done = 'no previous release to return to'
    if (run.retiredDaemon) {
      // Before kaops this host ran keepalived: it runs it again, and kaopsd stops.
      await sh(run, S.reviveDaemonScript(REPLACED_DAEMON_UNIT, daemonUnit(run)), `starting ${REPLACED_DAEMON_UNIT} again`)
      run.retiredDaemon = false
      done += `; ${REPLACED_DAEMON_UNIT} enabled and started again, kaopsd stopped`
    } else if (isDirector(run)) {
      await sh(run, S.systemctlScript('stop', daemonUnit(run)), 'stopping kaopsd').catch(() => undefined)
      done += '; kaopsd stopped so it holds no VIP'
    }
    return done + (await endTakeoversNote(run, ctx))
  }
  const failed = run.target
  const forward: ReleaseManifest | undefined = failed
  run.target = back
  run.inspection = undefined
  run.binaryChanged = (forward?.kaopsd?.sha256 ?? null) !== (back.kaopsd?.sha256 ?? null)
  run.changedPaths = []
  const fake = (action: ActionName): PlaybookStep => ({action, params: {}})
  await switchRelease(run, fake('switch-release'), ctx)
  await installFiles(run, fake('install-files'), ctx)
  await applySysctl(run, fake('apply-sysctl'), ctx)
  if (!isDirector(run)) await prepareRealServers(run, fake('prepare-real-servers'), ctx)
  else await applyFirewall(run, fake('apply-firewall'), ctx)
  await installUnits(run, fake('install-units'), ctx)
  await reloadOrRestart(run, fake('reload-or-restart'), ctx)
  if (forward) await run.shell!.exec(S.discardReleaseScript(forward.id)).catch(() => undefined)
  return `back on ${back.id}` + (await endTakeoversNote(run, ctx))
}

/** After an automatic rollback: the peer drops its raised priority now rather than at lease end. */
async function endTakeoversNote(run: HostRun, ctx: ActionContext): Promise<string> {
  if (run.takeovers.length === 0) return ''
  const peers = run.takeovers.map((t) => t.peer.name).join(', ')
  const problems = await endTakeovers(run, ctx)
  return problems.length === 0 ? `; takeover ended on ${peers}` : `; ending the takeover failed (${problems.join('; ')}), it lapses with its lease`
}
