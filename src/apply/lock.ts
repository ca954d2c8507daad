/**
 * The per-host lock: a directory (mkdir is atomic on every filesystem) with a `holder` file
 * saying who took it: "user@machine pid=N since=ISO op=apply".
 *
 * Stale locks: a lock whose holder ran on THIS machine with a pid that no longer exists (or
 * this process, from a rollout that has ended) was left by a kaops that crashed or lost its
 * connection, and is taken over (the summary says so). Any other lock is never
 * broken automatically: another operator may be mid-rollout. If you are sure nobody is, remove
 * it by hand on the host: `rm -rf /var/lib/kaops/lock` (the message prints the exact command).
 */
import {LOCK_DIR} from './host-layout.js'
import {shq} from '../remote/shell-quote.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'

export interface LockHolder {
  user: string
  machine: string
  pid: number
  since: string
  op: string
  /** Random per rollout: tells a lock left by an earlier rollout of this same process from a live one. */
  run?: string
}

/** Rollouts running in this process, by run token. */
export const activeRuns = new Set<string>()

export function formatHolder(h: LockHolder): string {
  return `${h.user}@${h.machine} pid=${h.pid} since=${h.since} op=${h.op}` + (h.run ? ` run=${h.run}` : '')
}

export function parseHolder(text: string): LockHolder | undefined {
  const m = /^(\S+)@(\S+) pid=(\d+) since=(\S+) op=(\S+)(?: run=(\S+))?/.exec(text.trim())
  if (!m) return undefined
  const h: LockHolder = {user: m[1]!, machine: m[2]!, pid: Number(m[3]), since: m[4]!, op: m[5]!}
  if (m[6]) h.run = m[6]
  return h
}

/** Take the lock: prints TAKEN, or HELD then the holder's line. `steal` replaces a stale one. */
export function lockScript(holder: string, opts: {steal?: string} = {}): string {
  const d = shq(LOCK_DIR)
  return [
    `mkdir -p -- ${shq(LOCK_DIR.replace(/\/[^/]+$/, ''))}`,
    // Steal only if the holder is still exactly the stale one we saw (no race with a newcomer).
    opts.steal === undefined ? ':' : `if [ "$(cat ${d}/holder 2>/dev/null)" = ${shq(opts.steal)} ]; then rm -rf -- ${d}; fi`,
    `if mkdir -- ${d} 2>/dev/null; then printf '%s\\n' ${shq(holder)} > ${d}/holder; echo TAKEN`,
    `else echo HELD; cat ${d}/holder 2>/dev/null || echo '(holder unknown: lock being taken)'; fi`,
  ].join('\n')
}

/** Release it, only if it is still ours. */
export function unlockScript(holder: string): string {
  const d = shq(LOCK_DIR)
  return `if [ "$(cat ${d}/holder 2>/dev/null)" = ${shq(holder)} ]; then rm -rf -- ${d}; fi`
}

export type LockAttempt = {taken: true} | {taken: false; holder: string}

export function parseLockOutput(stdout: string): LockAttempt {
  const lines = stdout.trim().split('\n')
  if (lines[0] === 'TAKEN') return {taken: true}
  if (lines[0] === 'HELD') return {taken: false, holder: (lines[1] ?? '').trim()}
  throw new Error(`unexpected lock output: ${JSON.stringify(stdout.slice(0, 200))}`)
}

/**
 * A lock left on a host by a kaops on this very machine that is no longer running: its pid is
 * gone, or it is this process and that rollout has ended (its connection dropped before it
 * could unlock).
 */
export function isStaleHere(holderLine: string, machine: string, pidAlive: (pid: number) => boolean, self = process.pid, running: ReadonlySet<string> = activeRuns): boolean {
  const h = parseHolder(holderLine)
  if (h === undefined || h.machine !== machine) return false
  if (h.pid === self) return h.run === undefined || !running.has(h.run)
  return !pidAlive(h.pid)
}

export function lockedError(host: string, holderLine: string): KaopsError {
  return new KaopsError(`host ${host} is locked by another kaops operation: ${holderLine}`, {
    exit: ExitCode.locked,
    place: {host},
    suggestions: [
      'wait for that operation to finish, then run again',
      `if you are sure it is not running any more, remove the lock on ${host}: rm -rf ${LOCK_DIR}`,
    ],
  })
}
