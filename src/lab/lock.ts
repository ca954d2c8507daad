import {mkdir, open, readFile, rm} from 'node:fs/promises'
import {dirname} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {pidAlive} from '../local/pid-alive.js'

export interface LabLockOptions {
  /** How long to wait for a live owner to finish (labs on other bridges share this lock). Default 10 min. */
  waitMs?: number
  /** Told once when we start waiting. */
  onWait?: (line: string) => void
}

/**
 * One `lab up`/`lab down` at a time on this machine: a lock file holding the owner's pid. A lock
 * whose owner is gone is taken over; a live owner is waited for (several labs, on their own
 * bridges, may be brought up by several people or tests at once), up to `waitMs`.
 */
export async function withLabLock<T>(file: string, what: string, fn: () => Promise<T>, opts: LabLockOptions = {}): Promise<T> {
  await mkdir(dirname(file), {recursive: true})
  const until = Date.now() + (opts.waitMs ?? 600_000)
  let told = false
  for (let stale = 0; ; ) {
    try {
      const fh = await open(file, 'wx')
      await fh.writeFile(`${process.pid}\n`)
      await fh.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || stale > 3) throw lockError(file, error)
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim())
      if (owner && owner !== process.pid && pidAlive(owner)) {
        if (Date.now() > until) {
          throw new KaopsError(`another kaops lab command (pid ${owner}) is running; wait for it, or remove ${file} if it is stale`, {exit: ExitCode.locked})
        }
        if (!told) opts.onWait?.(`waiting for another kaops lab command (pid ${owner}) to finish`)
        told = true
        await sleep(250)
        continue
      }
      // No live owner (or a file being written right now): remove it only if still the same.
      stale++
      await sleep(50)
      if (Number((await readFile(file, 'utf8').catch(() => '')).trim()) === owner) await rm(file, {force: true})
    }
  }
  try {
    return await fn()
  } finally {
    await rm(file, {force: true})
  }

  function lockError(f: string, error: unknown): KaopsError {
    return new KaopsError(`cannot take the lab lock ${f} for ${what}: ${(error as Error).message}`, {exit: ExitCode.locked})
  }
}
