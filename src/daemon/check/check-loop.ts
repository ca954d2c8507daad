import {afterCheck, startChecking, type RealServerCheckState} from './check-scheduler.js'
import {runCheck} from './run-check.js'
import type {CheckResult, CheckSchedule, CheckTarget, CheckerConfig} from './types.js'

/** The timer side the loop needs; the daemon passes real timers, tests a virtual clock. */
export interface CheckClock {
  setTimer(ms: number, fn: () => void): () => void
  random(): number
}

export const realClock: CheckClock = {
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms)
    return () => clearTimeout(t)
  },
  random: Math.random,
}

export type RunCheck = (target: CheckTarget, config: CheckerConfig, signal?: AbortSignal) => Promise<CheckResult>

/**
 * The thin adapter around check-scheduler.ts for one real server: fires checks when the state
 * machine says, never two at once, and reports health changes. stop() cancels the timer and
 * aborts a check in flight. suspend() pauses the same way but keeps the state (ha_suspend);
 * resume() carries on from it.
 */
export class RealServerChecker {
  private state: RealServerCheckState | undefined
  private cancelTimer: (() => void) | undefined
  private inFlight: AbortController | undefined
  private stopped = false
  private suspended = false
  /** start() was called while suspended: resume() starts. */
  private startPending = false
  /** Bumped by suspend(): a check that was in flight then no longer counts. */
  private generation = 0

  constructor(
    private readonly target: CheckTarget,
    private readonly config: CheckerConfig,
    private readonly schedule: CheckSchedule,
    private readonly onChange: (change: {up: boolean; weight?: number; reason: string}, last: CheckResult) => void,
    private readonly clock: CheckClock = realClock,
    private readonly check: RunCheck = runCheck,
  ) {}

  get current(): RealServerCheckState | undefined {
    return this.state
  }

  get isSuspended(): boolean {
    return this.suspended
  }

  start(): void {
    if (this.suspended) {
      this.startPending = true
      return
    }
    const step = startChecking(this.schedule, this.clock.random())
    this.state = step.state
    this.arm(step.nextCheckInMs)
  }

  stop(): void {
    this.stopped = true
    this.cancelTimer?.()
    this.inFlight?.abort()
  }

  /** No checks until resume(); the last verdict stands meanwhile. */
  suspend(): void {
    if (this.suspended) return
    this.suspended = true
    this.generation++
    this.cancelTimer?.()
    this.cancelTimer = undefined
    this.inFlight?.abort()
    this.inFlight = undefined
  }

  resume(): void {
    if (!this.suspended) return
    this.suspended = false
    if (this.startPending || !this.state) {
      this.startPending = false
      this.start()
      return
    }
    // Spread like the first checks (warmup), so many resumed servers are not probed at once.
    this.arm(startChecking(this.schedule, this.clock.random()).nextCheckInMs)
  }

  private arm(ms: number): void {
    if (this.stopped || this.suspended) return
    this.cancelTimer = this.clock.setTimer(ms, () => void this.fire())
  }

  private async fire(): Promise<void> {
    const generation = this.generation
    const inFlight = new AbortController()
    this.inFlight = inFlight
    const result = await this.check(this.target, this.config, inFlight.signal)
    if (this.inFlight === inFlight) this.inFlight = undefined
    if (this.stopped || !this.state || generation !== this.generation) return
    const step = afterCheck(this.state, this.schedule, result)
    this.state = step.state
    if (step.change) this.onChange(step.change, result)
    this.arm(step.nextCheckInMs)
  }
}
