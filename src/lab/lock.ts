import {mkdir, open, readFile, rm} from 'node:fs/promises'
import {dirname} from 'node:path'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'

/**
 * One `lab up`/`lab down` at a time on this machine: a lock file holding the owner's pid. A lock
 * whose owner is gone is taken over.
 */
export async function withLabLock<T>(file: string, what: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(file), {recursive: true})
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(file, 'wx')
      await fh.writeFile(`${process.pid}\n`)
      await fh.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw lockError(file, error)
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim())
      if (owner && owner !== process.pid && alive(owner)) {
        throw new KaopsError(`another kaops lab command (pid ${owner}) is running; wait for it, or remove ${file} if it is stale`, {exit: ExitCode.locked})
      }
      await rm(file, {force: true})
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
