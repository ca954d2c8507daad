import type {CheckResult, CheckTarget, ConnectOptions} from './types.js'

/**
 * Shared plumbing of the checkers: where to connect (connect_ip/connect_port override the real
 * server), one deadline signal per check, and a wrapper that turns any exception into a failed
 * result, because a checker must never throw into the scheduler.
 */

export function endpoint(target: CheckTarget, o: ConnectOptions): {host: string; port: number} {
  return {host: o.connectIp ?? target.address, port: o.connectPort ?? target.port}
}

/** The caller's signal combined with connect_timeout, so either one ends the check. */
export function deadline(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(1, timeoutMs))
  return signal ? AbortSignal.any([signal, timeout]) : timeout
}

export function abortReason(signal: AbortSignal, timeoutMs: number): string {
  const r: unknown = signal.reason
  if (r instanceof Error && r.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`
  return 'aborted'
}

export async function settle(work: (started: number) => Promise<{ok: boolean; detail: string; weight?: number}>): Promise<CheckResult> {
  const started = performance.now()
  try {
    const r = await work(started)
    return {...r, latencyMs: round(performance.now() - started)}
  } catch (err) {
    return {ok: false, latencyMs: round(performance.now() - started), detail: err instanceof Error ? err.message : String(err)}
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
