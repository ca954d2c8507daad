import {execFile, spawn} from 'node:child_process'

/**
 * The one door through which the lab runs programs: argv arrays only (never a shell string),
 * so names from an inventory can never be interpreted by a shell.
 */

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  /** Bytes written to the child's stdin. */
  input?: string | Buffer
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

/** The command failed: keeps argv and stderr so a caller can turn it into one clear line. */
export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: RunResult,
  ) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ')
    super(`${argv.join(' ')} exited ${result.code}${tail ? `: ${tail}` : ''}`)
    this.name = 'CommandError'
  }
}

/** Runs a program and resolves with its exit code and output, whatever the code. */
export function tryRun(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 0, env: opts.env ?? process.env},
      (error, stdout, stderr) => {
        const e = error as (NodeJS.ErrnoException & {code?: string | number; killed?: boolean}) | null
        if (e && typeof e.code === 'string') {
          // Spawn failure (ENOENT and friends): the program is not there at all.
          reject(e)
          return
        }
        const code = e ? (typeof e.code === 'number' ? e.code : e.killed ? 124 : 1) : 0
        resolve({code, stdout, stderr})
      },
    )
    if (opts.input !== undefined) child.stdin?.end(opts.input)
    else child.stdin?.end()
  })
}

/** Runs a program and throws CommandError unless it exits 0. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await tryRun(cmd, args, opts)
  if (result.code !== 0) throw new CommandError([cmd, ...args], result)
  return result
}

/** True when `cmd` can be found on PATH (or is an existing absolute path). */
export async function haveCommand(cmd: string): Promise<boolean> {
  try {
    await tryRun(cmd, ['--version'], {timeoutMs: 10_000})
    return true
  } catch {
    return false
  }
}


/**
 * Starts a long-lived program in its own session, detached from us, stdout+stderr to `logFd`.
 * Resolves with its pid once it has been spawned (not once it is "ready").
 */
export function startDetached(cmd: string, args: string[], logFd: number, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {detached: true, stdio: ['ignore', logFd, logFd], env})
    child.once('error', reject)
    child.once('spawn', () => {
      child.unref()
      if (child.pid === undefined) reject(new Error(`${cmd} did not start`))
      else resolve(child.pid)
    })
  })
}
