import {spawn} from 'node:child_process'
import {settle} from './outcome.js'
import type {Checker, CheckResult, MiscCheckOptions} from './types.js'

/** What an exit status means for MISC_CHECK (pure, so the rule is tested on its own). */
export function miscVerdict(exitCode: number | null, dynamic: boolean): {ok: boolean; weight?: number} {
  if (exitCode === 0) return {ok: true}
  if (dynamic && exitCode !== null && exitCode >= 2 && exitCode <= 255) return {ok: true, weight: exitCode - 2}
  return {ok: false}
}

/**
 * MISC_CHECK: run misc_path through /bin/sh, killed (its whole process group) at misc_timeout.
 * Exit 0 is up, anything else down; with misc_dynamic, exit 2..255 is up with weight exit-2.
 * The target is unused: the script knows what it checks.
 */
export const miscCheck: Checker<MiscCheckOptions> = (_target, o, signal) =>
  settle(() =>
    new Promise<Omit<CheckResult, 'latencyMs'>>((resolve) => {
      const child = spawn('/bin/sh', ['-c', o.miscPath], {stdio: 'ignore', detached: true})
      let why: string | undefined
      const kill = (reason: string): void => {
        why ??= reason
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }
      const timer = setTimeout(() => kill(`timed out after ${o.miscTimeoutMs} ms`), o.miscTimeoutMs)
      const onAbort = (): void => kill('aborted')
      signal?.addEventListener('abort', onAbort, {once: true})
      child.once('error', (err) => {
        clearTimeout(timer)
        resolve({ok: false, detail: `misc_path ${o.miscPath}: ${err.message}`})
      })
      child.once('exit', (code, sig) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if (why) {
          resolve({ok: false, detail: `misc_path ${o.miscPath}: ${why}`})
          return
        }
        const v = miscVerdict(code, o.dynamic)
        const status = code === null ? `signal ${sig}` : `exit ${code}`
        resolve({...v, detail: `misc_path ${o.miscPath}: ${status}${v.weight === undefined ? '' : `, weight ${v.weight}`}`})
      })
    }),
  )
