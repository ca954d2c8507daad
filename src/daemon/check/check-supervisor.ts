import {serviceLabel, type LbBackend, type ReconcileReport, type ServiceKey, type VirtualService} from '../lb/types.js'
import {realClock, RealServerChecker, type CheckClock, type RunCheck} from './check-loop.js'
import {runCheck} from './run-check.js'
import type {CheckResult, CheckSchedule, CheckerConfig} from './types.js'
import {
  applyHealth, desiredService, initialState, liveWeight, nextQuorum, realServerId, shutdownNotifications,
  type Notification, type VirtualServerConfig, type VirtualServerState,
} from './virtual-server-state.js'
import {virtualServerStatus} from './virtual-server-status.js'
import type {VirtualServerStatus} from '../../model/kaopsd-status.js'

export interface RealServerCheck {
  checker: CheckerConfig
  schedule: CheckSchedule
}

/** A virtual server with what each real server is checked by. */
export interface CheckedVirtualServer {
  config: VirtualServerConfig
  /**
   * Keyed by realServerId. Several checkers: the server is up only while every one of them
   * passes (keepalived's rule); none: always up, as keepalived.
   */
  checks: Record<string, RealServerCheck | RealServerCheck[] | undefined>
  /** A virtual_server group: every service key it expands to, all served alike. Default [config.key]. */
  keys?: ServiceKey[]
  /** The group's name, for status and logs. */
  group?: string
  /**
   * ha_suspend: the service's own addresses. While none of them is on this host the real
   * servers are not checked and keep their last health.
   */
  suspendWithout?: string[]
}

/** Whether an address (as written in the configuration) is configured on this host. */
export type LocalAddressTest = (address: string) => boolean

export interface SupervisorEvents {
  runNotification(n: Notification): void
  log(line: string): void
}

/** What a reload kept running untouched, rebuilt, started and stopped (by virtual server label). */
export interface SupervisorReload {
  report: ReconcileReport
  kept: string[]
  changed: string[]
  added: string[]
  removed: string[]
}

/** One real server's checkers and the verdict of each. */
interface RealServerCheckers {
  signature: string
  runners: RealServerChecker[]
  up: boolean[]
  /** The weight misc_dynamic set last, if any. */
  weight?: number
}

interface Entry {
  id: string
  signature: string
  vs: CheckedVirtualServer
  state: VirtualServerState
  checkers: Map<string, RealServerCheckers>
  lastChecks: Map<string, {at: Date; result: CheckResult}>
  /** ha_suspend in force: its checkers are paused. */
  suspended: boolean
}

function checkList(c: RealServerCheck | RealServerCheck[] | undefined): RealServerCheck[] {
  return c === undefined ? [] : Array.isArray(c) ? c : [c]
}

/** The label a virtual server is known by in logs, status and reload reports. */
export function virtualServerId(vs: CheckedVirtualServer): string {
  return vs.group !== undefined ? `group ${vs.group}` : serviceLabel(vs.config.key)
}

/**
 * The glue of the checking subsystem: RealServerCheckers per checked real server, the pure
 * virtual-server state, and the data plane. Health changes are applied in order and every
 * reconcile is serialised, so the kernel always converges to the latest desired state. A
 * reload keeps every virtual server and every real server's checkers whose configuration did
 * not change (health, timers and last results included), so only what differs is touched.
 */
export class CheckSupervisor {
  private entries = new Map<string, Entry>()
  private chain: Promise<unknown> = Promise.resolve()
  private stopped = false
  /** Unknown until the owner says (setLocalAddresses): nothing is suspended before that. */
  private isLocal: LocalAddressTest | undefined

  constructor(
    private servers: readonly CheckedVirtualServer[],
    private readonly backend: LbBackend,
    private readonly events: SupervisorEvents,
    private readonly clock: CheckClock = realClock,
    private readonly check: RunCheck = runCheck,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(): Promise<ReconcileReport> {
    const fresh: RealServerChecker[] = []
    this.entries = new Map()
    for (const vs of this.servers) {
      const e = this.newEntry(vs, undefined, fresh)
      this.entries.set(e.id, e)
    }
    this.applySuspension()
    const report = await this.reconcile()
    for (const c of fresh) c.start()
    return report
  }

  /**
   * Replaces the configuration, touching only what differs: unchanged virtual servers keep
   * running as they are; in a changed one, real servers whose address and checkers did not
   * change keep their health and checkers. One reconcile follows.
   */
  async reload(servers: readonly CheckedVirtualServer[]): Promise<SupervisorReload> {
    const fresh: RealServerChecker[] = []
    const next = new Map<string, Entry>()
    const out = {kept: [] as string[], changed: [] as string[], added: [] as string[], removed: [] as string[]}
    for (const vs of servers) {
      const id = uniqueId(virtualServerId(vs), next)
      const old = this.entries.get(id)
      if (old && old.signature === JSON.stringify(vs)) {
        old.vs = vs
        next.set(id, old)
        out.kept.push(id)
        continue
      }
      const e = this.newEntry(vs, old, fresh, id)
      next.set(id, e)
      ;(old ? out.changed : out.added).push(id)
    }
    for (const [id, old] of this.entries) {
      const now = next.get(id)
      for (const [rsId, rc] of old.checkers) {
        if (now?.checkers.get(rsId) !== rc) rc.runners.forEach((r) => r.stop())
      }
      if (!now) out.removed.push(id)
    }
    this.entries = next
    this.servers = servers
    this.applySuspension()
    const report = await this.reconcile()
    if (!this.stopped) for (const c of fresh) c.start()
    return {report, ...out}
  }

  /** Stops checking; with omega, returns after running the shutdown notifications. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const e of this.entries.values()) for (const rc of e.checkers.values()) rc.runners.forEach((r) => r.stop())
    await this.chain
    for (const e of this.entries.values()) shutdownNotifications(e.vs.config, e.state).forEach((n) => this.events.runNotification(n))
  }

  status(backend: VirtualServerStatus['backend']): VirtualServerStatus[] {
    return [...this.entries.values()].map((e) => virtualServerStatus(e.vs.config, e.state, backend, e.lastChecks, e.vs.group))
  }

  /** The data-plane entries wanted right now (every key of a group gets the same destinations). */
  desired(): VirtualService[] {
    return [...this.entries.values()].flatMap((e) => {
      const d = desiredService(e.vs.config, e.state)
      return (e.vs.keys ?? [e.vs.config.key]).map((key) => ({...d, key}))
    })
  }

  /** Resolves once every change seen so far is in the kernel. */
  settled(): Promise<unknown> {
    return this.chain
  }

  /** Labels of the virtual servers whose checkers ha_suspend has paused. */
  suspended(): string[] {
    return [...this.entries.values()].filter((e) => e.suspended).map((e) => e.id)
  }

  /** Tells which addresses are on the host now; ha_suspend services pause or resume to match. */
  setLocalAddresses(isLocal: LocalAddressTest): void {
    this.isLocal = isLocal
    this.applySuspension()
  }

  private applySuspension(): void {
    if (this.stopped) return
    for (const e of this.entries.values()) {
      const addresses = e.vs.suspendWithout
      const suspend = addresses !== undefined && addresses.length > 0 && this.isLocal !== undefined && !addresses.some(this.isLocal)
      // Runners carried over by a reload keep their own pause state: bring each in line.
      for (const rc of e.checkers.values()) for (const r of rc.runners) suspend ? r.suspend() : r.resume()
      if (suspend === e.suspended) continue
      e.suspended = suspend
      const which = (addresses ?? []).join(', ')
      this.events.log(suspend
        ? `virtual_server ${e.id}: ${which} not on this host, health checks suspended (ha_suspend); real servers keep their state`
        : addresses?.length ? `virtual_server ${e.id}: ${which} on this host, health checks resumed` : `virtual_server ${e.id}: no ha_suspend any more, health checks resumed`)
    }
  }

  private newEntry(vs: CheckedVirtualServer, old: Entry | undefined, fresh: RealServerChecker[], id = uniqueId(virtualServerId(vs), this.entries)): Entry {
    // A rebuilt entry inherits the pause state, so a reload logs a suspend or resume only when it changes.
    const e: Entry = {id, signature: JSON.stringify(vs), vs, state: initialState(vs.config), checkers: new Map(), lastChecks: new Map(), suspended: old?.suspended ?? false}
    for (const rs of vs.config.realServers) {
      const rsId = realServerId(rs)
      const list = checkList(vs.checks[rsId])
      if (list.length === 0) continue
      const signature = JSON.stringify([rsId, list])
      const reuse = old?.checkers.get(rsId)
      if (reuse && reuse.signature === signature && old!.state.health[rsId]) {
        // Same server, same checkers: keep its timers, verdicts and health as they are.
        e.checkers.set(rsId, reuse)
        e.state.health[rsId] = {...old!.state.health[rsId]!}
        const last = old!.lastChecks.get(rsId)
        if (last) e.lastChecks.set(rsId, last)
        continue
      }
      const rc: RealServerCheckers = {signature, runners: [], up: list.map((c) => !c.schedule.alpha)}
      list.forEach((c, k) => {
        const runner = new RealServerChecker(rs, c.checker, c.schedule, (change) => this.onChange(id, rsId, rc, k, change), this.clock,
          async (t, cfg, signal) => {
            const r = await this.check(t, cfg, signal)
            if (this.entries.get(id)?.checkers.get(rsId) === rc) this.entries.get(id)!.lastChecks.set(rsId, {at: this.now(), result: r})
            return r
          })
        rc.runners.push(runner)
        fresh.push(runner)
      })
      e.checkers.set(rsId, rc)
      e.state.health[rsId] = {up: rc.up.every(Boolean)}
    }
    // Quorum follows the carried-over health without running scripts: a reload is not a health change.
    const prevQuorum = old?.state.quorumUp ?? e.state.quorumUp
    e.state.quorumUp = old ? nextQuorum(vs.config, prevQuorum, liveWeight(vs.config, e.state.health)) : liveWeight(vs.config, e.state.health) >= vs.config.quorum
    return e
  }

  private onChange(entryId: string, rsId: string, rc: RealServerCheckers, k: number, change: {up: boolean; weight?: number; reason: string}): void {
    const e = this.entries.get(entryId)
    // A checker stopped by a reload may still report once: it no longer speaks for anyone.
    if (!e || e.checkers.get(rsId) !== rc || this.stopped) return
    rc.up[k] = change.up
    if (change.weight !== undefined) rc.weight = change.weight
    const up = rc.up.every(Boolean)
    const before = e.state.health[rsId]
    if (before && before.up === up && before.weight === rc.weight) return
    const t = applyHealth(e.vs.config, e.state, rsId, rc.weight === undefined ? {up} : {up, weight: rc.weight})
    e.state = t.state
    this.events.log(`real server ${rsId} of virtual_server ${e.id} is ${up ? 'UP' : 'DOWN'}: ${change.reason}`)
    void this.reconcile()
      .then(() => t.notifications.forEach((n) => this.events.runNotification(n)))
      .catch((err: unknown) => this.events.log(`data plane reconcile failed: ${(err as Error).message}`))
  }

  private reconcile(): Promise<ReconcileReport> {
    const run = this.chain.then(() => this.backend.reconcile(this.desired()))
    this.chain = run.catch(() => undefined)
    return run
  }
}

/** Two virtual servers with the same label (a config mistake) still get separate entries. */
function uniqueId(base: string, taken: ReadonlyMap<string, unknown>): string {
  if (!taken.has(base)) return base
  for (let n = 2; ; n++) if (!taken.has(`${base} #${n}`)) return `${base} #${n}`
}
