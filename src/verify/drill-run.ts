/**
 * `kaops verify --failover-drill`: for each instance and fault, walk the drill playbook on real
 * hosts, then measure (drill-measure.ts, pure). The cluster is ALWAYS put back as it was: the
 * fault is undone and every helper stopped in `finally`, also after an error or Ctrl-C (the
 * caller aborts `signal`), and the result says whether that worked.
 */
import type {DesiredHost} from '../model/desired-state.js'
import type {Inventory, Vip} from '../model/inventory.js'
import type {DrillEvent, DrillFault, DrillReport, DrillResult} from '../model/verify.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {hostPart, serviceVip, vipDirectors, vipInterface, vipPriorities} from '../inventory/derive.js'
import {loadInventory} from '../inventory/load.js'
import {RemoteHost, type ConnectOptions} from '../remote/connection.js'
import {parseAddrMonitor, parseProbeLog} from './drill-logs.js'
import {masterDownMs, measureFailback, measureTakeover, type MeasureInput} from './drill-measure.js'
import {loadDrillPlaybook, type DrillStep} from './drill-playbook.js'
import {cleanupScript, faultPlan, holdsScript, parseData, parseT, startAddrMonitorScript, startCaptureScript, startProbeScript, stopScript, type FaultPlan} from './drill-scripts.js'
import {interfacesWith} from './invariants.js'
import {parsePcap} from './pcap.js'
import {verifyInventory} from './run-verify.js'

export interface DrillOptions extends ConnectOptions {
  instances?: string[]
  faults?: DrillFault[]
  toleranceMs?: number
  probePort?: number
  playbookFile?: string
  linkDownSeconds?: number
  progress?: (line: string) => void
  signal?: AbortSignal
  /**
   * Check ids not required for "healthy" (e.g. kaopsd.running when another VRRP daemon stands
   * in for kaopsd, as the lab test does with keepalived). Empty by default.
   */
  ignoreChecks?: string[]
}

export const DEFAULT_FAULTS: DrillFault[] = ['graceful', 'crash']

class Aborted extends Error {}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Aborted('interrupted'))
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(new Aborted('interrupted'))
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/** Runs a script on a host by name: SSH in the field, a fake in tests. */
export interface HostRunner {
  run(name: string, script: string, timeoutMs?: number): Promise<string>
}

/** SSH sessions by host name, reconnected when a fault (link down) broke one. */
class Sessions implements HostRunner {
  private readonly open = new Map<string, RemoteHost>()
  constructor(
    private readonly hosts: Map<string, DesiredHost>,
    private readonly opts: ConnectOptions,
  ) {}

  private async get(name: string): Promise<RemoteHost> {
    let r = this.open.get(name)
    if (!r) {
      r = await RemoteHost.connect(this.hosts.get(name)!.ssh, this.opts)
      this.open.set(name, r)
    }
    return r
  }

  /** Run a script; on a transport error reconnect once and retry. Non-zero exit throws. */
  async run(name: string, script: string, timeoutMs = 20_000): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await (await this.get(name)).exec('sh -s', {stdin: script, timeoutMs})
        if (r.code !== 0) throw new KaopsError(`host ${name}: drill step failed (exit ${r.code}): ${r.stderr.trim().slice(-300)}`)
        return r.stdout
      } catch (error) {
        if (error instanceof KaopsError && /drill step failed/.test(error.message)) throw error
        this.open.get(name)?.close()
        this.open.delete(name)
        if (attempt >= 1) throw error
      }
    }
  }

  closeAll(): void {
    for (const r of this.open.values()) r.close()
    this.open.clear()
  }
}

export interface Ctx {
  inv: Inventory
  vip: Vip
  fault: DrillFault
  master: string
  backups: string[]
  probeHost: string
  captureHost: string
  address: string
  port: number
  tag: string
  plan: FaultPlan
  toleranceMs: number
  s: HostRunner
  signal?: AbortSignal
  progress: (line: string) => void
  healthy: () => Promise<void>
}

interface State {
  events: DrillEvent[]
  startedAt: number
  tFault: number | null
  tRestore: number | null
  restored: boolean
  running: Array<{host: string; what: 'probe' | 'capture' | 'addr'}>
  probeTimeoutMs: number
}

const mdi = (c: Ctx) => masterDownMs(Math.min(...vipPriorities(c.vip).map(([, p]) => p)), c.vip.advertInterval * 1000)

async function holders(c: Ctx, names: string[]): Promise<string[]> {
  const res = await Promise.all(names.map(async (n) => ((await c.s.run(n, holdsScript(c.address), 5_000).catch(() => 'FREE')).includes('HOLDS') ? n : undefined)))
  return res.filter((x): x is string => x !== undefined)
}

async function waitFor(c: Ctx, timeoutMs: number, test: () => Promise<boolean>): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await test()) return true
    await sleep(200, c.signal)
  }
  return false
}

async function stop(c: Ctx, st: State, host: string, what: 'probe' | 'capture' | 'addr'): Promise<Buffer> {
  const i = st.running.findIndex((r) => r.host === host && r.what === what)
  if (i < 0) return Buffer.alloc(0)
  st.running.splice(i, 1)
  return parseData(await c.s.run(host, stopScript(c.tag, what, what === 'capture' ? 'pcap' : 'log'), 30_000))
}

async function restore(c: Ctx, st: State): Promise<void> {
  if (st.restored || st.tFault === null) return
  if (c.plan.selfRestoreSeconds !== undefined) await sleep(Math.max(0, st.tFault + c.plan.selfRestoreSeconds * 1000 + 500 - Date.now()))
  const out = await c.s.run(c.master, c.plan.restore, 30_000)
  st.tRestore = c.plan.selfRestoreSeconds !== undefined ? st.tFault + c.plan.selfRestoreSeconds * 1000 : (parseT(out) ?? Date.now())
  st.events.push({t: st.tRestore, kind: 'restore', host: c.master, what: c.plan.restoreWhat})
  st.restored = true
}

async function step(c: Ctx, st: State, s: DrillStep): Promise<void> {
  const maxSeconds = 300
  const all = [c.master, ...c.backups]
  switch (s.action) {
    case 'check-healthy':
      return c.healthy()
    case 'start-address-monitor':
      for (const h of all) {
        await c.s.run(h, startAddrMonitorScript(c.tag, maxSeconds))
        st.running.push({host: h, what: 'addr'})
      }
      return
    case 'start-capture':
      await c.s.run(c.captureHost, startCaptureScript(c.tag, vipInterface(c.vip, c.inv.directors.find((d) => d.name === c.captureHost)!), maxSeconds))
      st.running.push({host: c.captureHost, what: 'capture'})
      return
    case 'start-probe': {
      st.probeTimeoutMs = s.params.timeout_ms ?? 100
      const out = await c.s.run(c.probeHost, startProbeScript(c.tag, c.address, c.port, s.params.interval_ms ?? 10, st.probeTimeoutMs, maxSeconds))
      st.running.push({host: c.probeHost, what: 'probe'})
      st.startedAt = parseT(out) ?? Date.now()
      return
    }
    case 'wait':
      return sleep(s.params.ms ?? 1000, c.signal)
    case 'inject-fault': {
      c.progress(`${c.vip.name}: ${c.fault} fault on ${c.master} (${c.plan.what})`)
      st.tFault = Date.now()
      const out = await c.s.run(c.master, c.plan.inject, 30_000)
      st.tFault = parseT(out) ?? st.tFault
      st.events.push({t: st.tFault, kind: 'fault', host: c.master, what: c.plan.what})
      return
    }
    case 'wait-takeover': {
      const ok = await waitFor(c, s.params.timeout_ms ?? 2 * mdi(c) + 5000, async () => (await holders(c, c.backups)).length > 0)
      c.progress(`${c.vip.name}: ${ok ? 'a backup holds the VIP' : 'no backup took the VIP in time'}`)
      return
    }
    case 'restore':
      c.progress(`${c.vip.name}: restoring ${c.master}`)
      return restore(c, st)
    case 'wait-failback': {
      const prios = Object.fromEntries(vipPriorities(c.vip))
      const expected = c.vip.preempt && c.backups.every((b) => (prios[c.master] ?? 0) > (prios[b] ?? 0))
      if (expected) await waitFor(c, s.params.timeout_ms ?? 2 * mdi(c) + 15_000, async () => (await holders(c, [c.master])).length > 0)
      else await sleep(mdi(c) + 2000, c.signal)
      return
    }
    case 'stop-probe':
      st.events.push(...parseProbeLog((await stop(c, st, c.probeHost, 'probe')).toString('utf8')))
      return
    case 'stop-capture':
      st.events.push(...parsePcap(await stop(c, st, c.captureHost, 'capture')))
      return
    case 'stop-address-monitor':
      for (const h of all) st.events.push(...parseAddrMonitor(h, (await stop(c, st, h, 'addr')).toString('utf8'), c.vip.addresses.map((a) => hostPart(a.address))))
      return
  }
}

/** Put the VIP back on the original master and confirm every director runs kaopsd. */
async function confirmRestored(c: Ctx): Promise<{ok: boolean; message: string}> {
  const all = [c.master, ...c.backups]
  let now = await holders(c, all)
  const notes: string[] = []
  if (!(now.length === 1 && now[0] === c.master) && !c.vip.preempt && now.length === 1) {
    // nopreempt keeps the VIP on the backup: hand it back with a graceful restart there.
    notes.push(`handed the VIP back from ${now[0]} (nopreempt) by restarting its kaopsd`)
    await c.s.run(now[0]!, faultPlan('graceful', {iface: '', linkDownSeconds: 0, tag: c.tag}).restore.replace('systemctl start', 'systemctl restart'), 30_000)
    await waitFor(c, 2 * mdi(c) + 10_000, async () => (await holders(c, [c.master])).length > 0)
    now = await holders(c, all)
  }
  const inactive: string[] = []
  for (const h of all) {
    const out = await c.s.run(h, 'systemctl is-active kaopsd.service || true', 10_000).catch((e: Error) => `unreachable: ${e.message}`)
    if (out.trim() !== 'active') inactive.push(`${h}: ${out.trim()}`)
  }
  const ok = now.length === 1 && now[0] === c.master && inactive.length === 0
  const msg = `${now.length === 1 ? `VIP on ${now[0]}` : now.length === 0 ? 'VIP held by nobody' : `VIP on ${now.join(' and ')}`}${inactive.length ? `; kaopsd not active on ${inactive.join(', ')}` : '; kaopsd active on every director'}`
  return {ok, message: [...notes, ok ? msg : `NOT as it was (${c.master} held the VIP): ${msg}`].join('; ')}
}

/** One drill (one instance, one fault) on hosts reached through `c.s`. Exported for tests. */
export async function drillOne(c: Ctx, steps: DrillStep[]): Promise<DrillResult> {
  const st: State = {events: [], startedAt: Date.now(), tFault: null, tRestore: null, restored: false, running: [], probeTimeoutMs: 100}
  let failure: unknown
  try {
    for (const s of steps) {
      if (c.signal?.aborted) throw new Aborted('interrupted')
      await step(c, st, s)
    }
  } catch (error) {
    failure = error
  }
  // Always: undo the fault, stop what we started (by pid), clean up, confirm.
  const cleanupErrors: string[] = []
  try {
    await restore(c, st)
  } catch (error) {
    cleanupErrors.push(`could not undo the fault on ${c.master}: ${(error as Error).message}`)
  }
  for (const r of [...st.running]) await stop(c, st, r.host, r.what).catch((e: Error) => cleanupErrors.push(`could not stop the ${r.what} on ${r.host}: ${e.message}`))
  for (const h of new Set([c.master, ...c.backups, c.probeHost])) await c.s.run(h, cleanupScript(c.tag), 10_000).catch(() => undefined)
  if (failure && st.tFault === null && cleanupErrors.length === 0) throw failure // nothing was touched yet
  let restored = await confirmRestored(c).catch((e: Error) => ({ok: false, message: `could not confirm: ${e.message}`}))
  if (cleanupErrors.length) restored = {ok: false, message: `${cleanupErrors.join('; ')}; ${restored.message}`}
  if (failure) {
    const what = failure instanceof Aborted ? 'interrupted' : (failure as Error).message
    throw new KaopsError(`drill ${c.vip.name}/${c.fault} stopped: ${what}. Cluster: ${restored.ok ? 'restored' : 'NOT restored'} (${restored.message})`, {
      exit: ExitCode.error,
      suggestions: restored.ok ? [] : [`check ${c.master} by hand: systemctl status kaopsd; ip addr`],
    })
  }
  st.events.sort((a, b) => a.t - b.t)
  const directors = Object.fromEntries(vipDirectors(c.inv, c.vip).map((d) => [hostPart(d.address), d.name]))
  const input: MeasureInput = {
    fault: c.fault,
    vrid: c.vip.vrid,
    version: c.vip.version,
    advertIntervalMs: c.vip.advertInterval * 1000,
    vip: c.address,
    directors,
    oldMaster: c.master,
    priorities: Object.fromEntries(vipPriorities(c.vip)),
    preempt: c.vip.preempt,
    tFault: st.tFault!,
    tRestore: st.tRestore,
    toleranceMs: c.toleranceMs,
    probeTimeoutMs: st.probeTimeoutMs,
    events: st.events,
  }
  const takeover = measureTakeover(input)
  const failback = measureFailback(input, takeover.to, st.events.at(-1)?.t ?? Date.now())
  return {instance: c.vip.name, fault: c.fault, master: c.master, vip: c.address, startedAt: st.startedAt, takeover, failback, restored, events: st.events}
}

function trackScriptPath(vip: Vip): string | undefined {
  const first = vip.trackScripts[0]?.script.trim().split(/\s+/)[0]
  return first?.startsWith('/') ? first : undefined
}

/** The whole drill. Refuses an unhealthy cluster; returns results even when some drills FAIL. */
export async function runFailoverDrill(inventoryPath: string, opts: DrillOptions = {}): Promise<{report: DrillReport; directorOf: (a: string) => string | undefined}> {
  const inv = await loadInventory(inventoryPath)
  const steps = await loadDrillPlaybook(opts.playbookFile)
  const progress = opts.progress ?? (() => undefined)
  const vips = opts.instances?.length ? opts.instances.map((n) => inv.vips.find((v) => v.name === n) ?? fail(`no VRRP instance ${n} in ${inventoryPath} (known: ${inv.vips.map((v) => v.name).join(', ')})`)) : inv.vips
  const faults = opts.faults?.length ? opts.faults : DEFAULT_FAULTS
  const probe = inv.probes[0] ?? fail(`${inventoryPath}: the drill needs a probe host (probes:) to measure what clients see`)
  const toleranceMs = opts.toleranceMs ?? 50
  let hostsByName = new Map<string, DesiredHost>()
  const directorOf = (a: string) => inv.directors.find((d) => hostPart(d.address) === a)?.name
  const results: DrillResult[] = []
  let sessions: Sessions | undefined
  try {
    for (const vip of vips) {
      for (const fault of faults) {
        // Healthy first, every time: the previous drill must have left the cluster as it was.
        progress(`${vip.name}: checking the cluster is healthy before the ${fault} drill`)
        const v = await verifyInventory(inventoryPath, {inventory: inv, ...opts})
        hostsByName = new Map(v.desired.map((d) => [d.name, d]))
        let master: string | undefined
        const healthy = async () => {
          const failing = v.report.checks.filter((x) => x.status === 'fail' && !opts.ignoreChecks?.includes(x.id))
          if (failing.length) {
            throw new KaopsError(`refusing to drill ${vip.name}: the cluster is not healthy (${failing.slice(0, 6).map((x) => `${x.id} ${x.subject}: ${x.message}`).join('; ')}${failing.length > 6 ? '; ...' : ''})`, {
              suggestions: [`run \`kaops verify ${inventoryPath}\` and fix what it names first`],
            })
          }
        }
        const members = vipDirectors(inv, vip).map((d) => d.name)
        const holding = members.filter((n) => interfacesWith(v.facts.hosts[n]?.actual, vip.addresses[0]!.address).length > 0)
        master = holding.length === 1 ? holding[0] : undefined
        if (!master) {
          await healthy()
          fail(`refusing to drill ${vip.name}: ${holding.length === 0 ? 'nobody holds' : `${holding.join(' and ')} hold`} its VIP`)
        }
        const prios = Object.fromEntries(vipPriorities(vip))
        const backups = members.filter((n) => n !== master).sort((a, b) => (prios[b] ?? 0) - (prios[a] ?? 0))
        if (backups.length === 0) fail(`refusing to drill ${vip.name}: it has no backup director`)
        const service = inv.services.find((s) => serviceVip(inv, s)?.name === vip.name && s.protocol === 'TCP')
        const tag = `${Date.now().toString(36)}-${fault}`
        const masterDir = inv.directors.find((d) => d.name === master)!
        if (fault === 'track' && !trackScriptPath(vip)) fail(`cannot drill a track fault on ${vip.name}: it has no track script given as an absolute path`)
        sessions?.closeAll()
        sessions = new Sessions(hostsByName, opts)
        const c: Ctx = {
          inv,
          vip,
          fault,
          master: master!,
          backups,
          probeHost: probe.name,
          captureHost: backups[0]!,
          address: hostPart(vip.addresses[0]!.address),
          port: opts.probePort ?? service?.port ?? 22,
          tag,
          plan: faultPlan(fault, {iface: vipInterface(vip, masterDir), linkDownSeconds: opts.linkDownSeconds ?? Math.ceil((2 * masterDownMs(100, vip.advertInterval * 1000)) / 1000) + 2, trackScript: trackScriptPath(vip), tag}),
          toleranceMs,
          s: sessions,
          signal: opts.signal,
          progress,
          healthy,
        }
        const r = await drillOne(c, steps)
        progress(`${vip.name}/${fault}: takeover ${r.takeover.verdict}, failback ${r.failback.verdict}, restored ${r.restored.ok ? 'yes' : 'NO'}`)
        results.push(r)
        if (!r.restored.ok) {
          progress(`stopping: the cluster was not restored after ${vip.name}/${fault}`)
          return {report: toDrillReport(inventoryPath, toleranceMs, results), directorOf}
        }
      }
    }
  } finally {
    sessions?.closeAll()
  }
  return {report: toDrillReport(inventoryPath, toleranceMs, results), directorOf}
}

export function toDrillReport(inventory: string, toleranceMs: number, results: DrillResult[]): DrillReport {
  const ok = results.length > 0 && results.every((r) => r.takeover.verdict === 'PASS' && r.failback.verdict === 'PASS' && r.restored.ok)
  return {format_version: 1, inventory, ok, toleranceMs, results}
}

function fail(message: string): never {
  throw new KaopsError(message, {exit: ExitCode.error})
}
