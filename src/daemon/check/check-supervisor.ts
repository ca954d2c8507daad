import {serviceLabel, type LbBackend, type ReconcileReport} from '../lb/types.js'
import {realClock, RealServerChecker, type CheckClock, type RunCheck} from './check-loop.js'
import {runCheck} from './run-check.js'
import type {CheckResult, CheckSchedule, CheckerConfig} from './types.js'
import {
  applyHealth, desiredService, initialState, realServerId, shutdownNotifications,
  type Notification, type VirtualServerConfig, type VirtualServerState,
} from './virtual-server-state.js'
import {virtualServerStatus} from './virtual-server-status.js'
import type {VirtualServerStatus} from '../../model/kaopsd-status.js'

/** A virtual server with what each real server is checked by (none: always up, as keepalived). */
export interface CheckedVirtualServer {
  config: VirtualServerConfig
  checks: Record<string, {checker: CheckerConfig; schedule: CheckSchedule} | undefined>
}

export interface SupervisorEvents {
  runNotification(n: Notification): void
  log(line: string): void
}

/**
 * The glue of the checking subsystem: one RealServerChecker per checked real server, the pure
 * virtual-server state, and the data plane. Health changes are applied in order and every
 * reconcile is serialised, so the kernel always converges to the latest desired state.
 */
export class CheckSupervisor {
  private readonly states = new Map<number, VirtualServerState>()
  private readonly checkers: RealServerChecker[] = []
  private readonly lastChecks = new Map<number, Map<string, {at: Date; result: CheckResult}>>()
  private chain: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly servers: readonly CheckedVirtualServer[],
    private readonly backend: LbBackend,
    private readonly events: SupervisorEvents,
    private readonly clock: CheckClock = realClock,
    private readonly check: RunCheck = runCheck,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(): Promise<ReconcileReport> {
    this.servers.forEach((vs, i) => {
      this.states.set(i, initialState(vs.config))
      this.lastChecks.set(i, new Map())
      for (const rs of vs.config.realServers) {
        const id = realServerId(rs)
        const c = vs.checks[id]
        if (!c) continue
        const checker = new RealServerChecker(rs, c.checker, c.schedule, (change) => this.onChange(i, id, change), this.clock,
          async (t, cfg, signal) => {
            const r = await this.check(t, cfg, signal)
            this.lastChecks.get(i)!.set(id, {at: this.now(), result: r})
            return r
          })
        this.checkers.push(checker)
      }
    })
    const report = await this.reconcile()
    for (const c of this.checkers) c.start()
    return report
  }

  /** Stops checking; with omega, returns after running the shutdown notifications. */
  async stop(): Promise<void> {
    for (const c of this.checkers) c.stop()
    await this.chain
    this.servers.forEach((vs, i) => shutdownNotifications(vs.config, this.states.get(i)!).forEach((n) => this.events.runNotification(n)))
  }

  status(backend: VirtualServerStatus['backend']): VirtualServerStatus[] {
    return this.servers.map((vs, i) => virtualServerStatus(vs.config, this.states.get(i)!, backend, this.lastChecks.get(i)!))
  }

  /** Resolves once every change seen so far is in the kernel. */
  settled(): Promise<unknown> {
    return this.chain
  }

  private onChange(i: number, id: string, change: {up: boolean; weight?: number; reason: string}): void {
    const vs = this.servers[i]!
    const t = applyHealth(vs.config, this.states.get(i)!, id, change.weight === undefined ? {up: change.up} : {up: change.up, weight: change.weight})
    this.states.set(i, t.state)
    this.events.log(`real server ${id} of virtual_server ${serviceLabel(vs.config.key)} is ${change.up ? 'UP' : 'DOWN'}: ${change.reason}`)
    void this.reconcile()
      .then(() => t.notifications.forEach((n) => this.events.runNotification(n)))
      .catch((err: unknown) => this.events.log(`data plane reconcile failed: ${(err as Error).message}`))
  }

  private reconcile(): Promise<ReconcileReport> {
    const run = this.chain.then(() => this.backend.reconcile(this.servers.map((vs, i) => desiredService(vs.config, this.states.get(i)!))))
    this.chain = run.catch(() => undefined)
    return run
  }
}
