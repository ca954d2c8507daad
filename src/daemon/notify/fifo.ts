import {execFileSync} from 'node:child_process'
import {chownSync, closeSync, constants, lstatSync, openSync, unlinkSync, writeSync} from 'node:fs'
import type {NotifyFifoConfig} from '../../model/keepalived-config.js'
import type {ScriptRunner} from '../os/script-runner.js'
import type {NotifyLog} from './mailer.js'

/**
 * One notify FIFO (notify_fifo, vrrp_notify_fifo or an instance's own): created when missing,
 * opened O_RDWR|O_NONBLOCK so that neither the open nor a write ever waits for a reader (a
 * FIFO opened write-only blocks until someone reads, and a full one blocks the writer), with
 * its `_script` reader started on it. A line that does not fit is dropped and logged.
 */
export class NotifyFifo {
  private fd: number | undefined
  private created = false
  private reader: {stop(): Promise<void>} | undefined
  private warnedFull = false

  constructor(
    readonly config: NotifyFifoConfig,
    private readonly label: string,
    private readonly runner: ScriptRunner,
    private readonly log: NotifyLog,
  ) {}

  get path(): string {
    return this.config.path
  }

  open(): boolean {
    const path = this.config.path
    try {
      let st = lstatOrUndefined(path)
      if (!st) {
        // Node has no mkfifo(3); coreutils' mkfifo is on every host kaopsd supports.
        execFileSync('mkfifo', ['-m', '0600', path], {stdio: ['ignore', 'ignore', 'pipe']})
        this.created = true
        if (this.config.user) this.chown(path)
        st = lstatOrUndefined(path)
      }
      if (!st?.isFIFO()) {
        this.log.error(`${this.label} ${path} exists and is not a FIFO; not writing to it`)
        return false
      }
      // libuv adds O_CLOEXEC itself, so scripts never inherit the descriptor.
      this.fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK)
    } catch (err) {
      this.log.error(`${this.label} ${path}: ${(err as Error).message.split('\n')[0]}`)
      return false
    }
    if (this.config.script) {
      const started = this.runner.startLongRunning(this.config.script, [path])
      if (typeof started !== 'string') this.reader = started
    }
    return true
  }

  write(line: string): void {
    if (this.fd === undefined) return
    try {
      writeSync(this.fd, line)
      this.warnedFull = false
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EAGAIN' && this.warnedFull) return
      this.warnedFull = code === 'EAGAIN'
      this.log.warning(`${this.label} ${this.config.path}: line dropped (${code === 'EAGAIN' ? 'nobody is reading it and it is full' : (err as Error).message}): ${line.trimEnd()}`)
    }
  }

  async close(): Promise<void> {
    // The reader first, so it sees end-of-file rather than a vanished path.
    await this.reader?.stop()
    this.reader = undefined
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
    if (this.created) {
      try {
        unlinkSync(this.config.path)
      } catch {
        // Someone removed it already.
      }
      this.created = false
    }
  }

  private chown(path: string): void {
    const u = this.config.user!
    const row = this.runner.resolveUser(u)
    if (typeof row === 'string') {
      this.log.error(`${this.label} ${path}: ${row}`)
      return
    }
    chownSync(path, row.uid, row.gid)
  }
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
