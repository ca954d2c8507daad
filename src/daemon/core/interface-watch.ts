import {readFileSync} from 'node:fs'

/**
 * Whether a link is usable: administratively up and operationally up (or "unknown", which
 * loopback and some virtual links report while working), as src/daemon/os/interfaces.ts judges
 * it. Read synchronously from two sysfs files: this runs ten times a second for the life of
 * the daemon, and the asynchronous path (four thread-pool reads per poll) cost a steady 1% CPU
 * on an idle daemon.
 */
export function linkUp(name: string, sysfs = '/sys/class/net'): boolean {
  try {
    const flags = Number.parseInt(readFileSync(`${sysfs}/${name}/flags`, 'latin1').trim(), 16)
    const state = readFileSync(`${sysfs}/${name}/operstate`, 'latin1').trim()
    return (flags & 0x1) !== 0 && (state === 'up' || state === 'unknown')
  } catch {
    return false
  }
}

/**
 * Watches interfaces for link changes by polling sysfs: cheap (one small file read each), no
 * netlink needed, and fast enough that a link loss is seen well inside one advert interval.
 */
export class InterfaceWatch {
  readonly #state = new Map<string, boolean>()
  readonly #listeners = new Map<string, Set<(up: boolean) => void>>()
  #timer: NodeJS.Timeout | undefined

  constructor(
    private readonly periodMs = 100,
    private readonly sysfs = '/sys/class/net',
  ) {}

  /** Subscribes; the listener is told the current state at once. */
  async watch(name: string, listener: (up: boolean) => void): Promise<void> {
    let set = this.#listeners.get(name)
    if (!set) {
      set = new Set()
      this.#listeners.set(name, set)
      this.#state.set(name, await this.#read(name))
    }
    set.add(listener)
    listener(this.#state.get(name) ?? false)
    this.#timer ??= setInterval(() => void this.#poll(), this.periodMs)
  }

  unwatchAll(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    this.#listeners.clear()
    this.#state.clear()
  }

  async #read(name: string): Promise<boolean> {
    return linkUp(name, this.sysfs)
  }

  async #poll(): Promise<void> {
    for (const [name, listeners] of this.#listeners) {
      const up = await this.#read(name)
      if (up === this.#state.get(name)) continue
      this.#state.set(name, up)
      for (const l of listeners) l(up)
    }
  }
}
