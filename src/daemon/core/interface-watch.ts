import {readInterface} from '../os/interfaces.js'

/**
 * Watches interfaces for link changes by polling sysfs: cheap (one small file read each), no
 * netlink needed, and fast enough that a link loss is seen well inside one advert interval.
 */
export class InterfaceWatch {
  readonly #state = new Map<string, boolean>()
  readonly #listeners = new Map<string, Set<(up: boolean) => void>>()
  #timer: NodeJS.Timeout | undefined

  constructor(private readonly periodMs = 100) {}

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
    try {
      return (await readInterface(name)).up
    } catch {
      return false
    }
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
