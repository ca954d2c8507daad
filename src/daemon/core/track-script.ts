import {execFile} from 'node:child_process'
import type {VrrpScriptConfig} from '../../model/keepalived-config.js'
import type {Logger} from './logger.js'

/**
 * The pure half of a vrrp_script: consecutive results against rise and fall. A script starts
 * "up" (keepalived's default) unless init_fail says otherwise, goes down after `fall` failures
 * in a row and back up after `rise` successes in a row.
 */
export interface ScriptHealth {
  up: boolean
  successes: number
  failures: number
}

export function initialHealth(script: Pick<VrrpScriptConfig, 'initFail'>): ScriptHealth {
  return {up: !script.initFail, successes: 0, failures: 0}
}

export function recordResult(h: ScriptHealth, ok: boolean, script: Pick<VrrpScriptConfig, 'rise' | 'fall'>): ScriptHealth {
  if (ok) {
    const successes = h.successes + 1
    return {up: h.up || successes >= script.rise, successes, failures: 0}
  }
  const failures = h.failures + 1
  return {up: h.up && failures < script.fall, successes: 0, failures}
}

/** What a track script run looks like to the loop: ok or not, and why not. */
export type ScriptExecutor = (script: VrrpScriptConfig) => Promise<{ok: boolean; detail: string}>

/** Runs the script without a shell, with a clean environment and the configured timeout. */
export const execTrackScript: ScriptExecutor = (script) =>
  new Promise((resolve) => {
    const argv = script.script?.argv ?? []
    if (argv.length === 0) {
      resolve({ok: false, detail: 'no script'})
      return
    }
    execFile(
      argv[0]!,
      argv.slice(1),
      {timeout: script.timeoutMs, killSignal: 'SIGKILL', env: {PATH: '/usr/sbin:/usr/bin:/sbin:/bin'}},
      (err) => {
        if (!err) resolve({ok: true, detail: 'exit 0'})
        else if ((err as {killed?: boolean}).killed) resolve({ok: false, detail: `timed out after ${script.timeoutMs} ms`})
        else resolve({ok: false, detail: `exit ${(err as {code?: unknown}).code ?? String(err)}`})
      },
    )
  })

/**
 * One vrrp_script on its interval. Tells its listener whenever the script's health changes
 * (and once at start), so instances only recompute priorities on a change.
 */
export class TrackScriptLoop {
  #health: ScriptHealth
  #timer: NodeJS.Timeout | undefined
  #running = false

  constructor(
    readonly script: VrrpScriptConfig,
    private readonly onChange: (up: boolean) => void,
    private readonly log: Logger,
    private readonly exec: ScriptExecutor = execTrackScript,
  ) {
    this.#health = initialHealth(script)
  }

  get up(): boolean {
    return this.#health.up
  }

  start(): void {
    this.onChange(this.#health.up)
    this.#schedule(0)
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#running = false
  }

  #schedule(ms: number): void {
    this.#running = true
    this.#timer = setTimeout(() => void this.#tick(), ms)
  }

  async #tick(): Promise<void> {
    const {ok, detail} = await this.exec(this.script)
    if (!this.#running) return
    const before = this.#health.up
    this.#health = recordResult(this.#health, ok, this.script)
    if (this.#health.up !== before) {
      this.log.notice(`VRRP_Script(${this.script.name}) ${this.#health.up ? 'succeeded' : `failed (${detail})`}`)
      this.onChange(this.#health.up)
    }
    this.#schedule(this.script.intervalMs)
  }
}
