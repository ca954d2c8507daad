/**
 * The daemon's only source of time and timers. The protocol core sees time as plain numbers
 * (milliseconds on a monotonic clock) handed to it; this adapter turns its deadlines into real
 * timers, so the same core runs on a virtual clock in tests.
 */

export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/** Named deadlines on the monotonic clock; setting a name again replaces its deadline. */
export class DeadlineTimers<K extends string = string> {
  private readonly timers = new Map<K, NodeJS.Timeout>()

  constructor(private readonly onExpire: (key: K, now: number) => void) {}

  set(key: K, deadlineMs: number): void {
    this.clear(key)
    // libuv timers count whole milliseconds from a loop time that may be stale, so they can
    // fire a little early; the protocol core acts on an expiry at once, so never hand it one
    // before its deadline: re-arm for the remainder instead.
    const arm = (): void => {
      const delay = Math.max(0, Math.ceil(deadlineMs - monotonicMs()))
      const handle = setTimeout(() => {
        const now = monotonicMs()
        if (now < deadlineMs) {
          arm()
          return
        }
        this.timers.delete(key)
        this.onExpire(key, now)
      }, delay)
      this.timers.set(key, handle)
    }
    arm()
  }

  clear(key: K): void {
    const handle = this.timers.get(key)
    if (handle) clearTimeout(handle)
    this.timers.delete(key)
  }

  clearAll(): void {
    for (const key of [...this.timers.keys()]) this.clear(key)
  }

  has(key: K): boolean {
    return this.timers.has(key)
  }
}
