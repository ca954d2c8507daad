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
  private readonly timers = new Map<K, {cancel(): void}>()

  constructor(private readonly onExpire: (key: K, now: number) => void) {}

  /**
   * libuv timers count whole milliseconds from a loop time that may be stale, so alone they fire
   * up to a couple of milliseconds early or late. The protocol core acts on an expiry at once,
   * and takeover time is measured in milliseconds against keepalived, so: sleep with a timer
   * until about 2 ms before the deadline, then turn the loop with setImmediate until it is due.
   * Never early, and late by well under a millisecond, for a few idle loop turns per expiry.
   */
  set(key: K, deadlineMs: number): void {
    this.clear(key)
    const arm = (): void => {
      const remaining = deadlineMs - monotonicMs()
      if (remaining <= 0) {
        this.timers.delete(key)
        this.onExpire(key, monotonicMs())
        return
      }
      if (remaining > 2) {
        const t = setTimeout(arm, Math.floor(remaining - 1.5))
        this.timers.set(key, {cancel: () => clearTimeout(t)})
      } else {
        const i = setImmediate(arm)
        this.timers.set(key, {cancel: () => clearImmediate(i)})
      }
    }
    arm()
  }

  clear(key: K): void {
    this.timers.get(key)?.cancel()
    this.timers.delete(key)
  }

  clearAll(): void {
    for (const key of [...this.timers.keys()]) this.clear(key)
  }

  has(key: K): boolean {
    return this.timers.has(key)
  }
}
