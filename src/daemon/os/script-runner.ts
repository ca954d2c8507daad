import {spawn, type ChildProcess} from 'node:child_process'
import type {ScriptCommand, ScriptUser} from '../../model/keepalived-config.js'
import {nodeHostEnv, type HostEnv} from '../config/host-env.js'
import {isExecutable, resolveProgram, scriptInsecurity} from '../config/script-security.js'

/**
 * Runs the operator's scripts (notify_*, notify_fifo_script, quorum_up ...) the way keepalived
 * does, minus its surprises:
 *   - argv as the config split it, never through a shell (no re-parsing of quotes or `$x`);
 *   - as the script's own user, else script_user, else keepalived_script when that user
 *     exists, else root; uid/gid from /etc/passwd and /etc/group;
 *   - with a clean environment (PATH only) and / as working directory;
 *   - with a timeout: SIGTERM to the script's whole process group, SIGKILL after a grace;
 *   - with enable_script_security, a script that a non-root user could change is refused,
 *     checked again on every run since files change under a running daemon.
 * A per-key serial queue keeps one instance's notify scripts in order and never overlapping.
 */

/** The PATH scripts get; the program of a command is looked up here too, so what was checked is what runs. */
export const SCRIPT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** keepalived's default script user when script_user is not given and this user exists. */
export const DEFAULT_SCRIPT_USER = 'keepalived_script'

export interface ScriptRunnerOptions {
  /** global_defs script_user. */
  scriptUser?: ScriptUser
  enableScriptSecurity: boolean
  /** Default timeout of run(); per-run overrides win. */
  timeoutMs?: number
  /** Between SIGTERM and SIGKILL. Default 2 s. */
  killGraceMs?: number
  env?: Pick<HostEnv, 'stat' | 'realpath' | 'lookupUser' | 'lookupGroup'>
  /** Where refusals and failures are told; the caller's logger. */
  log?: (severity: 'error' | 'warning' | 'info' | 'debug', message: string) => void
}

export interface RunOptions {
  /** Appended to the configured argv (the generic notify's TYPE NAME STATE PRIORITY). */
  extraArgs?: readonly string[]
  timeoutMs?: number
}

export type ScriptStatus = 'ok' | 'failed' | 'timeout' | 'refused' | 'error'

export interface ScriptResult {
  status: ScriptStatus
  exitCode: number | null
  signal: NodeJS.Signals | null
  durationMs: number
  /** One line for the log, naming the command and its config location. */
  detail: string
  /** The end of what the script wrote to stderr (at most 2 KiB), for the log. */
  stderr: string
}

export interface ResolvedScript {
  file: string
  args: string[]
  uid: number
  gid: number
  userName: string
}

const STDERR_KEEP = 2048

function where(cmd: ScriptCommand): string {
  return `${cmd.source.file}:${cmd.source.line}`
}

export class ScriptRunner {
  private readonly tails = new Map<string, Promise<unknown>>()
  private readonly env: Pick<HostEnv, 'stat' | 'realpath' | 'lookupUser' | 'lookupGroup'>
  private readonly children = new Set<ChildProcess>()

  constructor(private readonly opts: ScriptRunnerOptions) {
    this.env = opts.env ?? nodeHostEnv()
  }

  /** Who a script runs as: its own `user [group]`, else script_user, else keepalived_script, else root. */
  resolveUser(user: ScriptUser | undefined): {uid: number; gid: number; name: string} | string {
    const chosen = user ?? this.opts.scriptUser
    if (!chosen) {
      const fallback = this.env.lookupUser(DEFAULT_SCRIPT_USER)
      return fallback ? {...fallback, name: DEFAULT_SCRIPT_USER} : {uid: 0, gid: 0, name: 'root'}
    }
    const u = this.env.lookupUser(chosen.user)
    if (!u) return `user '${chosen.user}' is not in /etc/passwd`
    if (chosen.group === undefined) return {...u, name: chosen.user}
    const g = this.env.lookupGroup(chosen.group)
    if (!g) return `group '${chosen.group}' is not in /etc/group`
    return {uid: u.uid, gid: g.gid, name: `${chosen.user}:${chosen.group}`}
  }

  /**
   * Everything decided before spawning: program, user, security. A string says why the script
   * cannot run; `kaopsd -t`'s checks use the same rule through script-security.ts.
   */
  resolve(cmd: ScriptCommand, extraArgs: readonly string[] = []): ResolvedScript | string {
    const [program, ...args] = cmd.argv
    if (!program) return `script at ${where(cmd)} is empty`
    const runner = this.resolveUser(cmd.user)
    if (typeof runner === 'string') return `script '${cmd.command}' (${where(cmd)}): ${runner}`
    const pathEnv = {stat: this.env.stat, pathDirs: SCRIPT_PATH.split(':')}
    const found = resolveProgram(program, pathEnv)
    if (!found) return `script '${cmd.command}' (${where(cmd)}): '${program}' not found${program.includes('/') ? '' : ` in ${SCRIPT_PATH}`}`
    const real = this.env.realpath(found) ?? found
    const info = this.env.stat(real)
    if (!info || !isExecutable(info)) return `script '${cmd.command}' (${where(cmd)}): '${real}' is not an executable file`
    if (this.opts.enableScriptSecurity) {
      const problem = scriptInsecurity(real, {uid: runner.uid, gid: runner.gid}, this.env)
      if (problem) return `script '${cmd.command}' (${where(cmd)}) refused by enable_script_security: ${problem}`
    }
    return {file: found, args: [...args, ...extraArgs], uid: runner.uid, gid: runner.gid, userName: runner.name}
  }

  /** Runs one script now, to completion or timeout. Never rejects. */
  run(cmd: ScriptCommand, ro: RunOptions = {}): Promise<ScriptResult> {
    const started = Date.now()
    const resolved = this.resolve(cmd, ro.extraArgs)
    if (typeof resolved === 'string') {
      this.opts.log?.('error', resolved)
      return Promise.resolve({status: 'refused', exitCode: null, signal: null, durationMs: 0, detail: resolved, stderr: ''})
    }
    const timeoutMs = ro.timeoutMs ?? this.opts.timeoutMs ?? 30_000
    const grace = this.opts.killGraceMs ?? 2000
    return new Promise((resolve) => {
      let child: ChildProcess
      try {
        child = spawn(resolved.file, resolved.args, {
          cwd: '/',
          env: {PATH: SCRIPT_PATH},
          stdio: ['ignore', 'ignore', 'pipe'],
          // Its own process group, so a timeout reaches whatever the script started too.
          detached: true,
          ...this.identity(resolved),
        })
      } catch (err) {
        const detail = `script '${cmd.command}' (${where(cmd)}): ${(err as Error).message}`
        this.opts.log?.('error', detail)
        resolve({status: 'error', exitCode: null, signal: null, durationMs: Date.now() - started, detail, stderr: ''})
        return
      }
      this.children.add(child)
      let stderr = ''
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        stderr = (stderr + d).slice(-STDERR_KEEP)
      })
      let timedOut = false
      let killTimer: NodeJS.Timeout | undefined
      const signalGroup = (sig: NodeJS.Signals): void => {
        try {
          if (child.pid) process.kill(-child.pid, sig)
        } catch {
          // The group is gone already.
        }
      }
      const timer = setTimeout(() => {
        timedOut = true
        signalGroup('SIGTERM')
        killTimer = setTimeout(() => signalGroup('SIGKILL'), grace)
      }, timeoutMs)
      let done = false
      const finish = (code: number | null, sig: NodeJS.Signals | null, spawnError?: Error): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        if (killTimer) clearTimeout(killTimer)
        this.children.delete(child)
        // A background process the script left behind may hold stderr open; do not wait for it.
        child.stderr?.destroy()
        const durationMs = Date.now() - started
        const base = `script '${cmd.command}' (${where(cmd)}) as ${resolved.userName}`
        let status: ScriptStatus
        let detail: string
        if (spawnError) {
          status = 'error'
          detail = `${base}: ${spawnError.message}`
        } else if (timedOut) {
          status = 'timeout'
          detail = `${base}: timed out after ${timeoutMs} ms, killed (${sig ?? `exit ${code}`})`
        } else if (code === 0) {
          status = 'ok'
          detail = `${base}: exit 0 in ${durationMs} ms`
        } else {
          status = 'failed'
          detail = `${base}: ${code === null ? `killed by ${sig}` : `exit ${code}`}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`
        }
        this.opts.log?.(status === 'ok' ? 'debug' : 'warning', detail)
        resolve({status, exitCode: code, signal: sig, durationMs, detail, stderr})
      }
      child.once('error', (err) => finish(null, null, err))
      child.once('exit', (code, sig) => finish(code, sig))
    })
  }

  /**
   * Runs `cmd` after every script queued before it under the same key has finished: one
   * instance's notify scripts run in transition order and never two at once, while different
   * instances do not wait for each other.
   */
  enqueue(key: string, cmd: ScriptCommand, ro: RunOptions = {}): Promise<ScriptResult> {
    const prev = this.tails.get(key) ?? Promise.resolve()
    const next = prev.then(() => this.run(cmd, ro))
    this.tails.set(key, next)
    void next.finally(() => {
      if (this.tails.get(key) === next) this.tails.delete(key)
    })
    return next
  }

  /** Resolves when every queue is empty (stop, tests). */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.allSettled([...this.tails.values()])
  }

  /**
   * Starts a long-running reader (notify_fifo_script): same user, environment and security as
   * run(), no timeout; stop() ends its process group (SIGTERM, SIGKILL after the grace).
   */
  startLongRunning(cmd: ScriptCommand, extraArgs: readonly string[] = []): {stop(): Promise<void>; pid: number | undefined} | string {
    const resolved = this.resolve(cmd, extraArgs)
    if (typeof resolved === 'string') {
      this.opts.log?.('error', resolved)
      return resolved
    }
    const child = spawn(resolved.file, resolved.args, {
      cwd: '/',
      env: {PATH: SCRIPT_PATH},
      stdio: 'ignore',
      detached: true,
      ...this.identity(resolved),
    })
    let stopping = false
    child.once('error', (err) => this.opts.log?.('error', `script '${cmd.command}' (${where(cmd)}): ${err.message}`))
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, sig) => {
        if (!stopping) this.opts.log?.('warning', `script '${cmd.command}' (${where(cmd)}) exited (${sig ?? `exit ${code}`})`)
        resolve()
      })
      child.once('error', () => resolve())
    })
    const grace = this.opts.killGraceMs ?? 2000
    return {
      pid: child.pid,
      stop: async () => {
        stopping = true
        if (child.exitCode !== null || child.signalCode !== null || !child.pid) return
        const signalGroup = (sig: NodeJS.Signals): void => {
          try {
            process.kill(-child.pid!, sig)
          } catch {
            // Gone already.
          }
        }
        signalGroup('SIGTERM')
        const killTimer = setTimeout(() => signalGroup('SIGKILL'), grace)
        await exited
        clearTimeout(killTimer)
      },
    }
  }

  /** uid/gid only when they differ from ours: an unprivileged test run can still run its own scripts. */
  private identity(r: ResolvedScript): {uid?: number; gid?: number} {
    const out: {uid?: number; gid?: number} = {}
    if (process.getuid && r.uid !== process.getuid()) out.uid = r.uid
    if (process.getgid && r.gid !== process.getgid()) out.gid = r.gid
    return out
  }
}
