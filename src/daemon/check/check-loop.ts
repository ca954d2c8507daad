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
 * aborts a check in flight.
 */
export class RealServerChecker {
  private state: RealServerCheckState | undefined
  private cancelTimer: (() => void) | undefined
  private inFlight: AbortController | undefined
  private stopped = false

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

  start(): void {
    const step = startChecking(this.schedule, this.clock.random())
    this.state = step.state
    this.arm(step.nextCheckInMs)
  }

  stop(): void {
    this.stopped = true
    this.cancelTimer?.()
    this.inFlight?.abort()
  }

  private arm(ms: number): void {
    if (this.stopped) return
    this.cancelTimer = this.clock.setTimer(ms, () => void this.fire())
  }

  private async fire(): Promise<void> {
    this.inFlight = new AbortController()
    const result = await this.check(this.target, this.config, this.inFlight.signal)
    this.inFlight = undefined
    if (this.stopped || !this.state) return
    const step = afterCheck(this.state, this.schedule, result)
    this.state = step.state
    if (step.change) this.onChange(step.change, result)
    this.arm(step.nextCheckInMs)
  }
}
