import type {CheckResult, CheckSchedule} from './types.js'

/**
 * One real server's checking rhythm as a pure state machine, with time as plain numbers.
 * keepalived's rule: an up server goes down only after retry+1 consecutive failures (the
 * first at the usual delay_loop, the retries delay_before_retry apart) and comes back up on
 * the first success; a down server is probed every delay_loop.
 */

export interface RealServerCheckState {
  up: boolean
  /** Consecutive failures while up, i.e. retries used so far. */
  failures: number
  /** The weight set by misc_dynamic, when it set one. */
  dynamicWeight?: number
  last?: CheckResult
}

export interface CheckStep {
  state: RealServerCheckState
  /** Milliseconds from now to the next check. */
  nextCheckInMs: number
  /** Set when this step changed the server's health or its dynamic weight. */
  change?: {up: boolean; weight?: number; reason: string}
}

/** The first check: warmup spreads the first probes over [0, warmup) so they do not all fire at once. */
export function startChecking(s: CheckSchedule, random01: number): CheckStep {
  return {state: {up: !s.alpha, failures: 0}, nextCheckInMs: s.warmupMs > 0 ? Math.floor(random01 * s.warmupMs) : 0}
}

export function afterCheck(prev: RealServerCheckState, s: CheckSchedule, result: CheckResult): CheckStep {
  if (result.ok) {
    const state: RealServerCheckState = {up: true, failures: 0, dynamicWeight: result.weight ?? prev.dynamicWeight, last: result}
    const weightChanged = result.weight !== undefined && result.weight !== prev.dynamicWeight
    const change = !prev.up || weightChanged ? {up: true, weight: state.dynamicWeight, reason: result.detail} : undefined
    return {state, nextCheckInMs: s.delayLoopMs, ...(change ? {change} : {})}
  }
  if (!prev.up) return {state: {...prev, failures: 0, last: result}, nextCheckInMs: s.delayLoopMs}
  if (prev.failures < s.retry) {
    return {state: {...prev, failures: prev.failures + 1, last: result}, nextCheckInMs: s.delayBeforeRetryMs}
  }
  return {
    state: {...prev, up: false, failures: 0, last: result},
    nextCheckInMs: s.delayLoopMs,
    change: {up: false, weight: prev.dynamicWeight, reason: `${s.retry + 1} consecutive failure(s), last: ${result.detail}`},
  }
}
