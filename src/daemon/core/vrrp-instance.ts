import {createRouter, encodeAdvert, status as routerStatus, step, type Router, type RouterAction, type RouterEvent, type RouterStateName, type TimerName} from '../vrrp/index.js'
import ipaddr from 'ipaddr.js'
import {addAddress, removeAddress, formatAddress, listAddresses} from '../os/addresses.js'
import {addRoute, removeRoute, formatRoute} from '../os/routes.js'
import {DeadlineTimers, monotonicMs} from './clock.js'
import type {InstanceSpec} from './instance-spec.js'
import type {Logger} from './logger.js'

/** A state change, as notify scripts, the FIFO, mail and the status report see it. */
export interface Transition {
  instance: string
  from: RouterStateName
  to: RouterStateName
  priority: number
  reason: string
  at: Date
}

/** What the runner needs from the world; the daemon wires the real ones, tests their own. */
export interface InstanceIo {
  /** Sends one VRRP payload to a group or peer, from the instance's interface and address. */
  sendAdvert(payload: Buffer, destination: string): void
  /** Sends a gratuitous ARP / unsolicited NA for each address, once. */
  sendGratuitous(addresses: string[]): void
  onTransition(t: Transition): void
}

/**
 * Drives one virtual router: feeds it events with the monotonic time and carries out the
 * actions it returns. Adverts go out at once; address changes, routes and gratuitous ARPs run
 * in order on one queue, so a GARP never precedes the address it announces.
 */
export class VrrpInstanceRunner {
  #router: Router
  #spec: InstanceSpec
  readonly #timers: DeadlineTimers<TimerName>
  #queue: Promise<void> = Promise.resolve()
  #lastTransition: Transition | null = null
  /** Adverts waiting on the queue behind address changes (make-before-break). */
  #advertsQueued = 0
  #stopped = false

  constructor(
    spec: InstanceSpec,
    private readonly io: InstanceIo,
    private readonly log: Logger,
  ) {
    this.#spec = spec
    this.#router = createRouter(spec.router, monotonicMs())
    this.#timers = new DeadlineTimers<TimerName>((timer, now) => this.handle({kind: 'timer', timer}, now))
  }

  get spec(): InstanceSpec {
    return this.#spec
  }

  get router(): Router {
    return this.#router
  }

  get lastTransition(): Transition | null {
    return this.#lastTransition
  }

  start(): void {
    this.handle({kind: 'startup'})
    // A run that died without releasing (SIGKILL, crash) leaves its VIPs behind; a backup that
    // kept them would answer ARP for an address the master owns. keepalived clears them at
    // startup too. A router that starts as master keeps them: it is about to (re)add them.
    if (this.#router.state !== 'Master') this.#enqueue('removing stale addresses', () => this.#removeStale())
  }

  async #removeStale(): Promise<void> {
    const key = (address: string, device: string) => `${device} ${ipaddr.process(address).toString()}`
    const wanted = new Map([...this.#spec.addresses.values()].map((a) => [key(a.address, a.device), a]))
    const devices = new Set([...this.#spec.addresses.values()].map((a) => a.device))
    for (const device of devices) {
      const present = await listAddresses(device).catch(() => [])
      for (const p of present) {
        const addr = wanted.get(key(p.address, p.device))
        if (!addr || this.#router.state === 'Master') continue
        // Said before it is done, so the log never lags behind what an observer sees.
        this.log.notice(`(${this.#spec.name}) removing stale VIP ${formatAddress(addr)} left by a previous run`)
        await removeAddress({...addr, prefixLength: p.prefixLength})
      }
    }
  }

  /** Feeds one event; never throws (a bug in one instance must not take the daemon down). */
  handle(event: RouterEvent, now: number = monotonicMs()): void {
    if (this.#stopped && event.kind !== 'shutdown') return
    const before = this.#router.state
    let result
    try {
      result = step(this.#router, event, now)
    } catch (err) {
      this.log.error(`(${this.#spec.name}) internal error on ${event.kind} event: ${String(err)}`)
      return
    }
    this.#router = result.router
    let reason = ''
    for (const action of result.actions) {
      if (action.kind === 'notify') reason = action.reason
      this.#execute(action)
    }
    const after = this.#router.state
    if (after !== before) {
      const t: Transition = {
        instance: this.#spec.name,
        from: before,
        to: after,
        priority: this.#router.effectivePriority,
        reason,
        at: new Date(),
      }
      this.#lastTransition = t
      this.io.onTransition(t)
    }
  }

  /** Applies a changed configuration to the running router (only called when it changed). */
  reload(spec: InstanceSpec): void {
    this.#spec = spec
    this.handle({kind: 'reload', config: spec.router})
  }

  /** Gives up mastership (priority 0) and, unless told to keep them, removes the addresses. */
  async stop(releaseVips = true): Promise<void> {
    this.handle({kind: 'shutdown', releaseVips})
    this.#stopped = true
    this.#timers.clearAll()
    await this.#queue
  }

  /** Resolves when every queued address change and GARP has been carried out. */
  settled(): Promise<void> {
    return this.#queue
  }

  status() {
    return routerStatus(this.#router)
  }

  #enqueue(what: string, work: () => Promise<void>): void {
    this.#queue = this.#queue.then(work).catch((err) => this.log.error(`(${this.#spec.name}) ${what} failed: ${String(err)}`))
  }

  #execute(action: RouterAction): void {
    const name = this.#spec.name
    switch (action.kind) {
      case 'sendAdvert': {
        const {family, primaryAddress: src} = this.#spec.router
        const send = (): void => {
          for (const dst of action.destinations) {
            try {
              // v3 checksums cover the destination, so each destination gets its own encoding.
              this.io.sendAdvert(Buffer.from(encodeAdvert(action.advert, {family, src, dst})), dst)
            } catch (err) {
              this.log.error(`(${name}) sending advert to ${dst} failed: ${String(err)}`)
            }
          }
        }
        if (!action.afterAddresses && this.#advertsQueued === 0) {
          send()
          return
        }
        // Make-before-break: the old master lets go when it hears this, so it waits for our
        // addresses (and the first gratuitous ARPs) queued before it; so does any advert that
        // follows it meanwhile (an answer to the old master's advert must not overtake it).
        // Not sent if we lost mastership meanwhile: a stale higher priority would pull it back.
        this.#advertsQueued++
        this.#enqueue('sending advert', async () => {
          this.#advertsQueued--
          if (this.#router.state === 'Master' || action.advert.priority === 0) send()
        })
        return
      }
      case 'addAddresses': {
        const spec = this.#spec
        this.#enqueue('adding addresses', async () => {
          for (const a of [...action.addresses, ...action.excluded]) {
            const addr = spec.addresses.get(a)
            if (!addr) continue
            await addAddress(addr)
            this.log.info(`(${name}) setting VIP ${formatAddress(addr)}`)
          }
          for (const id of action.routes) {
            const r = spec.routes.get(id)
            if (r) await addRoute(r)
          }
        })
        return
      }
      case 'removeAddresses': {
        const spec = this.#spec
        this.#enqueue('removing addresses', async () => {
          for (const id of action.routes) {
            const r = spec.routes.get(id)
            if (r) await removeRoute(r).catch((err) => this.log.warning(`(${name}) removing route ${formatRoute(r)}: ${String(err)}`))
          }
          for (const a of [...action.addresses, ...action.excluded]) {
            const addr = spec.addresses.get(a)
            if (!addr) continue
            await removeAddress(addr)
            this.log.info(`(${name}) removing VIP ${formatAddress(addr)}`)
          }
        })
        return
      }
      case 'sendGratuitous': {
        const {addresses, repeat, intervalMs} = action
        this.#enqueue('sending gratuitous ARP', async () => {
          for (let round = 0; round < repeat; round++) {
            if (this.#router.state !== 'Master') return
            if (intervalMs > 0) {
              for (const a of addresses) {
                this.io.sendGratuitous([a])
                await delay(intervalMs)
              }
            } else {
              this.io.sendGratuitous(addresses)
            }
          }
        })
        return
      }
      case 'startTimer':
        this.#timers.set(action.timer, action.deadline)
        return
      case 'stopTimer':
        this.#timers.clear(action.timer)
        return
      case 'notify':
        return
      case 'log':
        this.log.log(action.level === 'info' ? 'notice' : action.level, action.message)
        return
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
