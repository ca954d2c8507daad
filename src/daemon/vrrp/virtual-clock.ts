import { decodeAdvert, encodeAdvert } from './packet.js'
import { createRouter, step, type RouterAction, type RouterConfig, type RouterEvent, type Router, type RouterStateName } from './router.js'
import type { TimerName } from './timers.js'
import { ownFaultReason } from './router.js'
import { syncGroupDecisions } from './sync-group.js'

/**
 * Runs routers on a virtual clock, for tests and golden traces: timers fire at their exact
 * deadlines, and adverts one router sends reach the others (through the real codec, so the
 * bytes are exercised too) after `latencyMs`. Pure: no real time, no sockets.
 *
 * Ordering at equal times: scheduled inputs first, then deliveries, then timers (deterministic).
 * With syncGroups, a member's state change is followed at once, as the runtime does
 * (VrrpService): the group's decisions are fed to the members as sync events, until none are left.
 */

export interface LanInput {
  at: number
  /** Which router gets the event. */
  router: string
  /** A router event, or 'crash': the router vanishes silently (hard failure, no priority 0). */
  event: RouterEvent | { kind: 'crash' }
}

export interface LanStep {
  at: number
  router: string
  event: RouterEvent | { kind: 'crash' }
  state: RouterStateName
  priority: number
  actions: RouterAction[]
}

interface Pending {
  at: number
  order: number
  router: string
  event: RouterEvent | { kind: 'crash' }
}

export interface LanResult {
  steps: LanStep[]
  routers: Record<string, Router>
}

export interface LanOptions {
  /** vrrp_sync_group name -> member routers (names in `configs`). */
  syncGroups?: Record<string, string[]>
}

export function runLan(configs: Record<string, RouterConfig>, inputs: LanInput[], untilMs: number, latencyMs = 0, options: LanOptions = {}): LanResult {
  const routers: Record<string, Router> = {}
  const crashed = new Set<string>()
  for (const [name, cfg] of Object.entries(configs)) routers[name] = createRouter(cfg, 0)
  const queue: Pending[] = inputs.map((i, n) => ({ ...i, order: n }))
  let order = inputs.length
  const steps: LanStep[] = []
  for (let guard = 0; guard < 100_000; guard++) {
    // the earliest input/delivery, and the earliest timer of any live router
    queue.sort((a, b) => a.at - b.at || a.order - b.order)
    let timer: { at: number; router: string; timer: TimerName } | null = null
    for (const [name, r] of Object.entries(routers)) {
      if (crashed.has(name)) continue
      for (const [t, at] of Object.entries(r.timers) as [TimerName, number][]) {
        if (timer === null || at < timer.at || (at === timer.at && name < timer.router)) timer = { at, router: name, timer: t }
      }
    }
    const next = queue[0]
    let item: Pending
    if (next && (timer === null || next.at <= timer.at)) item = queue.shift()!
    else if (timer) item = { at: timer.at, order: -1, router: timer.router, event: { kind: 'timer', timer: timer.timer } }
    else break
    if (item.at > untilMs) break
    if (crashed.has(item.router) || !routers[item.router]) continue
    if (item.event.kind === 'crash') {
      crashed.add(item.router)
      const r = routers[item.router]!
      steps.push({ at: item.at, router: item.router, event: item.event, state: r.state, priority: r.effectivePriority, actions: [] })
      continue
    }
    feed(item.router, item.event, item.at)
  }
  return { steps, routers }

  function feed(name: string, ev: RouterEvent, at: number): void {
    const before = routers[name]!.state
    const { router, actions } = step(routers[name]!, ev, at)
    routers[name] = router
    steps.push({ at, router: name, event: ev, state: router.state, priority: router.effectivePriority, actions })
    for (const a of actions) {
      if (a.kind !== 'sendAdvert') continue
      const from = configs[name]!
      for (const dst of a.destinations) {
        const bytes = encodeAdvert(a.advert, { family: from.family, src: from.primaryAddress, dst })
        for (const [peer, cfg] of Object.entries(configs)) {
          if (peer === name || crashed.has(peer)) continue
          // unicast: each copy goes to the one peer it is addressed to
          if (from.unicastPeers.length > 0 && cfg.primaryAddress !== dst) continue
          const decoded = decodeAdvert(bytes, { family: cfg.family, src: from.primaryAddress, dst })
          const event: RouterEvent = decoded.ok
            ? { kind: 'advert', advert: decoded.advert, src: from.primaryAddress, dst, ttl: 255 }
            : { kind: 'malformed', error: decoded.error, src: from.primaryAddress }
          queue.push({ at: at + latencyMs, order: order++, router: peer, event })
        }
      }
    }
    if (router.state !== before) followSyncGroups(name, before, at)
  }

  function followSyncGroups(changed: string, before: RouterStateName, at: number): void {
    for (const [group, members] of Object.entries(options.syncGroups ?? {})) {
      if (!members.includes(changed)) continue
      const live = members.filter((m) => !crashed.has(m) && routers[m])
      const decisions = syncGroupDecisions(
        group,
        live.map((m) => ({ name: m, before: m === changed ? before : routers[m]!.state, after: routers[m]!.state, ownFault: ownFaultReason(routers[m]!) !== null })),
      )
      // Each decision is a step of its own, which may change a state and recurse: as the runtime.
      for (const d of decisions) feed(d.member, { kind: 'sync', want: d.want, reason: d.reason }, at)
    }
  }
}

/** One router alone on the virtual clock (adverts it sends go nowhere). */
export function runTrace(config: RouterConfig, inputs: { at: number; event: RouterEvent }[], untilMs: number): LanResult {
  return runLan({ r: config }, inputs.map((i) => ({ ...i, router: 'r' })), untilMs)
}
