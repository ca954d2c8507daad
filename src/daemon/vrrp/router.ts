import { AUTH_NONE, AUTH_PASS, passwordBytes, type Advert, type AdvertToSend, type AddressFamily, type DecodeError, type VrrpVersion } from './packet.js'
import { counterForDecodeError, zeroCounters, type CounterName, type Counters } from './counters.js'
import { csToUs, masterDownUs, skewUs, usToMs, type TimerName } from './timers.js'
import { advertWins, compareAddresses, isMulticast, sameAddress } from './election.js'

/**
 * One VRRP virtual router as a pure state machine: step(router, event, now) returns the next
 * router and the actions the runtime must carry out (send, install addresses, arm timers,
 * notify, log). No sockets, no clocks: `now` is milliseconds on the caller's monotonic clock,
 * and every deadline in an action is on that same clock.
 *
 * The behaviour follows RFC 3768/5798 with keepalived 2.2.7's choices where the RFCs leave room
 * (what is validated in which order, which counter moves, lower-priority adverts answered by
 * the master, Fault). Deviations are marked "kaopsd:" with the reason.
 */

export type RouterStateName = 'Initialize' | 'Backup' | 'Master' | 'Fault' | 'Stopped'

export interface GarpConfig {
  /** garp_master_delay: a second burst this long after takeover (0 = none). keepalived: 5 s. */
  masterDelayCs: number
  /** garp_master_repeat: packets per address in each burst. keepalived: 5. */
  masterRepeat: number
  /** garp_master_refresh: re-announce while master this often (0 = never). */
  masterRefreshCs: number
  /** garp_master_refresh_repeat. keepalived: 1. */
  masterRefreshRepeat: number
  /** vrrp_garp_interval (IPv4) / vrrp_gna_interval (IPv6): gap between packets of a burst. */
  intervalCs: number
}

export type RouterAuth = { type: 'none' } | { type: 'pass'; password: string }

/** The narrow configuration the state machine needs; the keepalived.conf model maps onto it. */
export interface RouterConfig {
  /** Instance name, for logs and notifications. */
  name: string
  vrid: number
  version: VrrpVersion
  family: AddressFamily
  /** Base priority, 1..255; 255 is the address owner. */
  priority: number
  advertIntervalCs: number
  preempt: boolean
  /** preempt_delay; 0 = none. */
  preemptDelayCs: number
  /** The virtual addresses carried in adverts (virtual_ipaddress), as plain addresses. */
  addresses: string[]
  /** virtual_ipaddress_excluded: installed with the others, never advertised. */
  excludedAddresses: string[]
  /** Opaque ids of virtual routes/rules the runtime installs on takeover. */
  routes: string[]
  /** Our source address: the tie-break on equal priority, and "is this advert our own". */
  primaryAddress: string
  /** Unicast peers; empty means multicast. */
  unicastPeers: string[]
  auth: RouterAuth
  /** vrrp_skip_check_adv_addr. */
  skipCheckAdvAddr: boolean
  /** Drop unicast adverts whose source is not a configured peer (keepalived: vrrp_check_unicast_src). */
  checkUnicastSource: boolean
  /** keepalived's lower_prio_no_advert: the master stays silent on lower-priority adverts. */
  lowerPrioNoAdvert: boolean
  garp: GarpConfig
}

export interface RouterStatus {
  state: RouterStateName
  effectivePriority: number
  /** The current master as far as we know (ourselves when Master). */
  masterAddress: string | null
  masterPriority: number | null
  /** Deadline (ms, the router's clock) of an operator takeover in force, or null. */
  takeoverUntil: number | null
}

interface Tracker {
  weight: number
  up: boolean
  kind: TrackKind
}

export type TrackKind = 'script' | 'interface' | 'file' | 'process' | 'bfd'

export interface Router {
  readonly config: RouterConfig
  readonly state: RouterStateName
  readonly basePriority: number
  readonly effectivePriority: number
  /** v3: the interval learned from the master's adverts (µs); v2: always the configured one. */
  readonly masterAdverIntUs: number
  readonly masterAddress: string | null
  readonly masterPriority: number | null
  /** Why the MasterDown timer will make us master when it fires (for the log and notify). */
  readonly masterDownReason: string | null
  /** Absolute deadline (ms) of the running preempt delay, or null. */
  readonly preemptDeadline: number | null
  /**
   * kaopsd: an operator takeover (`kaopsd takeover`) holds the effective priority at 254 until
   * this deadline (ms), so this router becomes and stays master while the peer is restarted.
   */
  readonly takeoverUntil: number | null
  /** Why the takeover was asked for, for the log and status. */
  readonly takeoverReason: string | null
  readonly interfaceUp: boolean
  readonly trackers: Readonly<Record<string, Tracker>>
  /** Set by a sync group that put us in Fault. */
  readonly syncFault: string | null
  /** Whether our addresses are installed (Master), so release removes only what we added. */
  readonly vipsSet: boolean
  /** Deadlines of the timers we armed, mirrored so step() can answer "is it still running". */
  readonly timers: Readonly<Partial<Record<TimerName, number>>>
  readonly counters: Counters
}

export interface ReceivedAdvert {
  kind: 'advert'
  advert: Advert
  /** Source address of the IP packet. */
  src: string
  /** Destination address (tells multicast from unicast). */
  dst: string
  /** IPv4 TTL / IPv6 hop limit, or null when the socket did not report it. */
  ttl: number | null
}

export type RouterEvent =
  | { kind: 'startup' }
  | ReceivedAdvert
  /** A packet the codec rejected: counted, nothing else. */
  | { kind: 'malformed'; error: DecodeError; src: string }
  | { kind: 'timer'; timer: TimerName }
  /** A tracked object's result; weight 0 and down means Fault. */
  | { kind: 'track'; name: string; trackKind: TrackKind; up: boolean; weight: number }
  /** The instance's own interface went up or down. */
  | { kind: 'interface'; up: boolean }
  /** keepalived -V keeps the addresses on stop: releaseVips false. */
  | { kind: 'shutdown'; releaseVips?: boolean }
  | { kind: 'reload'; config: RouterConfig }
  /** Decided by the sync group (sync-group.ts): follow the group into this state. */
  | { kind: 'sync'; want: 'Master' | 'Backup' | 'Fault'; reason: string }
  /**
   * kaopsd: operator takeover for leaseMs. Priority 254 while it lasts; a backup becomes master
   * at once, a master re-advertises. Refused (no change) in Fault, Initialize and Stopped.
   * A second one renews the lease.
   */
  | { kind: 'takeover'; leaseMs: number; reason?: string }
  /** kaopsd: ends an operator takeover before its lease: back to the computed priority. */
  | { kind: 'takeoverEnd'; reason?: string }

export type LogLevel = 'debug' | 'info' | 'warning' | 'error'

export type RouterAction =
  /**
   * afterAddresses: send only once the address changes and gratuitous ARPs queued before it are
   * done (make-before-break takeover: the old master must not hear us before we hold the VIPs).
   */
  | { kind: 'sendAdvert'; advert: AdvertToSend; destinations: string[]; afterAddresses?: boolean }
  | { kind: 'addAddresses'; addresses: string[]; excluded: string[]; routes: string[] }
  | { kind: 'removeAddresses'; addresses: string[]; excluded: string[]; routes: string[] }
  /** Gratuitous ARP (IPv4) or unsolicited NA (IPv6): `repeat` rounds over all addresses, `intervalMs` apart per packet. */
  | { kind: 'sendGratuitous'; family: AddressFamily; addresses: string[]; repeat: number; intervalMs: number }
  | { kind: 'startTimer'; timer: TimerName; deadline: number }
  | { kind: 'stopTimer'; timer: TimerName }
  | { kind: 'notify'; state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'; reason: string }
  | { kind: 'log'; level: LogLevel; message: string }

export interface StepResult {
  router: Router
  actions: RouterAction[]
}

const ALL_TIMERS: TimerName[] = ['MasterDown', 'Advert', 'PreemptDelay', 'GarpDelay', 'GarpRefresh', 'TakeoverLease']

/** The priority an operator takeover advertises: above any configured backup, below an owner. */
export const TAKEOVER_PRIORITY = 254

export function createRouter(config: RouterConfig, _now: number): Router {
  const configured = csToUs(config.advertIntervalCs)
  return {
    config,
    state: 'Initialize',
    basePriority: config.priority,
    effectivePriority: config.priority,
    masterAdverIntUs: configured,
    masterAddress: null,
    masterPriority: null,
    masterDownReason: null,
    preemptDeadline: null,
    takeoverUntil: null,
    takeoverReason: null,
    interfaceUp: true,
    trackers: {},
    syncFault: null,
    vipsSet: false,
    timers: {},
    counters: zeroCounters(),
  }
}

export function status(router: Router): RouterStatus {
  return {
    state: router.state,
    effectivePriority: router.effectivePriority,
    masterAddress: router.state === 'Master' ? router.config.primaryAddress : router.masterAddress,
    masterPriority: router.state === 'Master' ? router.effectivePriority : router.masterPriority,
    takeoverUntil: router.takeoverUntil,
  }
}

/** Why this router must be in Fault on its own account (interface, weight-0 tracker), or null. */
export function ownFaultReason(router: Pick<Router, 'interfaceUp' | 'trackers'>): string | null {
  if (!router.interfaceUp) return 'interface down'
  for (const [name, t] of Object.entries(router.trackers)) {
    if (t.weight === 0 && !t.up) return `track ${t.kind} ${name} failed`
  }
  return null
}

/** A mutable working copy for one step; step() returns it frozen into a new Router. */
class Step {
  r: Omit<{ -readonly [K in keyof Router]: Router[K] }, 'timers' | 'trackers'> & {
    timers: Partial<Record<TimerName, number>>
    trackers: Record<string, Tracker>
  }
  actions: RouterAction[] = []
  constructor(
    router: Router,
    readonly now: number,
  ) {
    this.r = { ...router, counters: { ...router.counters }, timers: { ...router.timers }, trackers: { ...router.trackers } }
  }

  get cfg(): RouterConfig {
    return this.r.config
  }

  log(level: LogLevel, message: string): void {
    this.actions.push({ kind: 'log', level, message: `(${this.cfg.name}) ${message}` })
  }

  bump(name: CounterName): void {
    this.r.counters[name]++
  }

  startTimer(timer: TimerName, afterUs: number): void {
    const deadline = this.now + usToMs(afterUs)
    this.r.timers[timer] = deadline
    this.actions.push({ kind: 'startTimer', timer, deadline })
  }

  stopTimer(timer: TimerName): void {
    if (this.r.timers[timer] === undefined) return
    delete this.r.timers[timer]
    this.actions.push({ kind: 'stopTimer', timer })
  }

  stopAllTimers(): void {
    for (const t of ALL_TIMERS) this.stopTimer(t)
  }

  destinations(): string[] {
    if (this.cfg.unicastPeers.length > 0) return [...this.cfg.unicastPeers]
    return [this.cfg.family === 'ipv4' ? '224.0.0.18' : 'ff02::12']
  }

  sendAdvert(priority: number, afterAddresses = false): void {
    const c = this.cfg
    const advert: AdvertToSend = {
      version: c.version,
      vrid: c.vrid,
      priority,
      advertIntervalCs: c.advertIntervalCs,
      addresses: [...c.addresses],
    }
    if (c.version === 2) {
      advert.authType = c.auth.type === 'pass' ? AUTH_PASS : AUTH_NONE
      if (c.auth.type === 'pass') advert.authPassword = c.auth.password
    }
    this.actions.push(afterAddresses ? { kind: 'sendAdvert', advert, destinations: this.destinations(), afterAddresses } : { kind: 'sendAdvert', advert, destinations: this.destinations() })
    this.bump('advert_sent')
    if (priority === 0) this.bump('pri_zero_sent')
  }

  gratuitous(repeat: number): void {
    const c = this.cfg
    const addresses = [...c.addresses, ...c.excludedAddresses]
    if (addresses.length === 0 || repeat <= 0) return
    this.actions.push({ kind: 'sendGratuitous', family: c.family, addresses, repeat, intervalMs: c.garp.intervalCs * 10 })
  }

  masterDownUs(): number {
    return masterDownUs(this.cfg.version, this.r.effectivePriority, this.r.masterAdverIntUs)
  }

  notify(state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP', reason: string): void {
    this.actions.push({ kind: 'notify', state, reason })
  }

  // --- transitions -------------------------------------------------------------------------

  /**
   * makeBeforeBreak (operator takeover, preempting a live master): the old master is serving, so we add
   * the addresses and announce them before it hears the advert that makes it let go; then no
   * instant has nobody holding them. kaopsd: keepalived has no such handover.
   */
  becomeMaster(reason: string, makeBeforeBreak = false): void {
    const c = this.cfg
    this.stopTimer('MasterDown')
    this.stopTimer('PreemptDelay')
    this.r.state = 'Master'
    this.r.preemptDeadline = null
    // RFC 5798 6.4.1/6.4.2: a new master advertises its own interval, not the one it learned.
    this.r.masterAdverIntUs = csToUs(c.advertIntervalCs)
    this.log('info', `Entering MASTER STATE (${reason})`)
    const add: RouterAction = { kind: 'addAddresses', addresses: [...c.addresses], excluded: [...c.excludedAddresses], routes: [...c.routes] }
    if (makeBeforeBreak) {
      // One gratuitous round before the advert moves the clients to us while the old master
      // still answers too; the rest of the burst follows it.
      this.actions.push(add)
      this.gratuitous(Math.min(1, c.garp.masterRepeat))
      this.sendAdvert(this.r.effectivePriority, true)
      this.gratuitous(c.garp.masterRepeat - 1)
    } else {
      // Advert first, as keepalived does: the old master drops the addresses before our ARPs land.
      this.sendAdvert(this.r.effectivePriority)
      this.actions.push(add)
      this.gratuitous(c.garp.masterRepeat)
    }
    this.bump('become_master')
    this.r.vipsSet = true
    if (c.garp.masterDelayCs > 0) this.startTimer('GarpDelay', csToUs(c.garp.masterDelayCs))
    if (c.garp.masterRefreshCs > 0) this.startTimer('GarpRefresh', csToUs(c.garp.masterRefreshCs))
    this.startTimer('Advert', csToUs(c.advertIntervalCs))
    this.notify('MASTER', reason)
  }

  releaseAddresses(): void {
    if (!this.r.vipsSet) return
    const c = this.cfg
    this.actions.push({ kind: 'removeAddresses', addresses: [...c.addresses], excluded: [...c.excludedAddresses], routes: [...c.routes] })
    this.r.vipsSet = false
  }

  /** Master -> Backup on a better advert (no priority 0: we are not leaving, just losing). */
  leaveMasterToBackup(reason: string): void {
    this.stopTimer('Advert')
    this.stopTimer('GarpDelay')
    this.stopTimer('GarpRefresh')
    this.r.state = 'Backup'
    this.log('info', `Entering BACKUP STATE (${reason})`)
    this.releaseAddresses()
    this.bump('release_master')
    this.r.preemptDeadline = null
    this.startTimer('MasterDown', this.masterDownUs())
    this.notify('BACKUP', reason)
  }

  enterBackup(reason: string, downUs: number): void {
    this.r.state = 'Backup'
    this.r.masterDownReason = 'master down timer expired'
    this.r.masterAdverIntUs = csToUs(this.cfg.advertIntervalCs)
    this.r.preemptDeadline = null
    this.log('info', `Entering BACKUP STATE (${reason})`)
    this.startTimer('MasterDown', downUs)
    this.notify('BACKUP', reason)
  }

  enterFault(reason: string): void {
    const was = this.r.state
    if (was === 'Master') {
      // keepalived: a master going to Fault tells the others with priority 0 so they take over at once.
      this.sendAdvert(0)
      this.releaseAddresses()
      this.bump('release_master')
    }
    // A router that cannot serve gives up an operator takeover too: coming back out of Fault
    // it must not claim 254 over a healthy peer.
    if (this.r.takeoverUntil !== null) this.clearTakeover(`entering FAULT: ${reason}`, false)
    this.stopAllTimers()
    this.r.state = 'Fault'
    this.r.preemptDeadline = null
    this.r.masterAddress = null
    this.r.masterPriority = null
    this.log('info', `Entering FAULT STATE (${reason})`)
    this.notify('FAULT', reason)
  }

  /** Out of Fault (or up from Initialize): the owner goes straight to Master, others to Backup. */
  comeUp(reason: string): void {
    this.r.masterAdverIntUs = csToUs(this.cfg.advertIntervalCs)
    if (this.r.basePriority === 255) this.becomeMaster(`${reason}, address owner (priority 255)`)
    else this.enterBackup(reason, this.masterDownUs())
  }

  // --- what keeps us down ------------------------------------------------------------------

  /** The first reason this router must be in Fault, or null. */
  faultReason(): string | null {
    return ownFaultReason(this.r) ?? this.r.syncFault
  }

  recomputePriority(): void {
    if (this.r.basePriority === 255) {
      // keepalived refuses weights on an address owner; it stays at 255.
      this.r.effectivePriority = 255
      return
    }
    if (this.r.takeoverUntil !== null) {
      // An operator takeover holds 254 whatever the trackers say (Fault still ends it).
      this.r.effectivePriority = TAKEOVER_PRIORITY
      return
    }
    let p = this.r.basePriority
    for (const t of Object.values(this.r.trackers)) {
      if (t.weight > 0 && t.up) p += t.weight
      if (t.weight < 0 && !t.up) p += t.weight
    }
    this.r.effectivePriority = Math.min(254, Math.max(1, p))
  }

  /** Ends an operator takeover: the computed priority again, told at once when master (and announce). */
  clearTakeover(why: string, announce = true): void {
    const before = this.r.effectivePriority
    this.r.takeoverUntil = null
    this.r.takeoverReason = null
    this.stopTimer('TakeoverLease')
    this.recomputePriority()
    this.log('info', `takeover ended (${why}): priority ${before} -> ${this.r.effectivePriority}`)
    if (announce && this.r.state === 'Master' && this.r.effectivePriority !== before) {
      // At once rather than at the next interval: a preempting higher-priority peer starts
      // its way back now, a non-preempting one learns our real priority.
      this.sendAdvert(this.r.effectivePriority)
      this.startTimer('Advert', csToUs(this.cfg.advertIntervalCs))
    }
  }

  /** After anything that may change fault reasons: move into or out of Fault. */
  settleFault(trigger: string): void {
    if (this.r.state === 'Stopped' || this.r.state === 'Initialize') return
    const reason = this.faultReason()
    if (reason !== null && this.r.state !== 'Fault') this.enterFault(reason)
    else if (reason === null && this.r.state === 'Fault') this.comeUp(`${trigger}, leaving FAULT`)
  }

  finish(): StepResult {
    return { router: Object.freeze({ ...this.r }) as Router, actions: this.actions }
  }
}

// --- event handlers ------------------------------------------------------------------------

function onStartup(s: Step): void {
  if (s.r.state !== 'Initialize' && s.r.state !== 'Stopped') {
    s.log('warning', `startup ignored in state ${s.r.state}`)
    return
  }
  s.r.state = 'Initialize'
  s.recomputePriority()
  const reason = s.faultReason()
  if (reason !== null) {
    s.r.state = 'Fault'
    s.log('info', `Entering FAULT STATE (init: ${reason})`)
    s.notify('FAULT', `init: ${reason}`)
    return
  }
  s.comeUp('init')
}

/**
 * Meaning checks on a well-formed advert, in keepalived's order; each failure bumps one
 * counter and drops the packet. Returns false when dropped.
 */
function acceptAdvert(s: Step, ev: ReceivedAdvert, checkAddresses: boolean): boolean {
  const c = s.cfg
  const a = ev.advert
  const drop = (counter: CounterName | null, message: string): false => {
    if (counter) s.bump(counter)
    s.log('info', message)
    return false
  }
  const unicast = c.unicastPeers.length > 0
  if (a.vrid !== c.vrid) return drop('vrid_err', `advert from ${ev.src} for VRID ${a.vrid}, ours is ${c.vrid}`)
  if (!unicast && ev.ttl !== null && ev.ttl !== 255) return drop('ip_ttl_err', `invalid TTL/HL from ${ev.src}: received ${ev.ttl}, expect 255`)
  if (a.version !== c.version) return drop('vers_err', `wrong version from ${ev.src}: received ${a.version}, expect ${c.version}`)
  if (c.version === 2) {
    if (a.authType !== AUTH_NONE && a.authType !== AUTH_PASS && a.authType !== 2) {
      return drop('invalid_authtype', `invalid auth type ${a.authType} from ${ev.src}`)
    }
    const ours = c.auth.type === 'pass' ? AUTH_PASS : AUTH_NONE
    if (a.authType !== ours) return drop('authtype_mismatch', `received auth type ${a.authType} from ${ev.src}, expecting ${ours}`)
    if (c.auth.type === 'pass' && !equalBytes(a.authData, passwordBytes(c.auth.password))) {
      return drop('auth_failure', `received an invalid password from ${ev.src}`)
    }
    // RFC 3768 7.1: a v2 advert with another interval is dropped (two masters on one VRID otherwise).
    if (a.advertIntervalCs !== Math.floor(c.advertIntervalCs / 100) * 100) {
      return drop('advert_interval_err', `advertisement interval mismatch from ${ev.src}: mine=${c.advertIntervalCs / 100} s, received ${a.advertIntervalCs / 100} s`)
    }
  }
  if (checkAddresses && a.addresses.length !== c.addresses.length) {
    return drop('addr_list_err', `received an unexpected address count ${a.addresses.length} from ${ev.src}, expected ${c.addresses.length}`)
  }
  if (isMulticast(ev.dst) === unicast) {
    return drop('addr_list_err', `expected ${unicast ? 'unicast' : 'multicast'} but received ${unicast ? 'multicast' : 'unicast'} advert from ${ev.src}`)
  }
  s.bump('advert_rcvd')
  if (checkAddresses) {
    for (const mine of c.addresses) {
      if (!a.addresses.some((theirs) => sameAddress(theirs, mine))) {
        return drop('addr_list_err', `address ${mine} of VRID ${c.vrid} not present in advert from ${ev.src}`)
      }
    }
  }
  if (unicast && c.checkUnicastSource && !c.unicastPeers.some((p) => sameAddress(p, ev.src))) {
    return drop('unknown_peer_err', `unicast source address ${ev.src} is not a unicast peer`)
  }
  if (a.priority === 0) s.bump('pri_zero_rcvd')
  return true
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

function onAdvertInBackup(s: Step, ev: ReceivedAdvert): void {
  const c = s.cfg
  // vrrp_skip_check_adv_addr only skips the list check for adverts from the master we know.
  const check = !c.skipCheckAdvAddr || s.r.masterAddress === null || !sameAddress(s.r.masterAddress, ev.src)
  if (!acceptAdvert(s, ev, check)) return
  const a = ev.advert
  if (a.priority === 0) {
    // RFC 3768 6.4.2: the master is leaving; take over after Skew_Time only.
    s.log('info', `priority 0 received from ${ev.src}, master down in skew time`)
    s.startTimer('MasterDown', skewUs(c.version, s.r.effectivePriority, s.r.masterAdverIntUs))
    s.r.masterDownReason = `priority 0 received from ${ev.src}`
    return
  }
  const delaying = c.preemptDelayCs > 0 && (s.r.preemptDeadline === null || s.now < s.r.preemptDeadline)
  if (!c.preempt || a.priority >= s.r.effectivePriority || delaying) {
    if (c.version === 3) s.r.masterAdverIntUs = csToUs(a.advertIntervalCs)
    s.startTimer('MasterDown', s.masterDownUs())
    s.r.masterDownReason = 'master down timer expired'
    s.r.masterAddress = ev.src
    s.r.masterPriority = a.priority
    if (c.preemptDelayCs > 0 && c.preempt) {
      if (a.priority >= s.r.effectivePriority) {
        if (s.r.preemptDeadline !== null) s.log('info', 'stop preempt delay')
        s.r.preemptDeadline = null
        s.stopTimer('PreemptDelay')
      } else if (s.r.preemptDeadline === null) {
        s.log('info', `start preempt delay (${c.preemptDelayCs / 100} s) against lower priority ${a.priority} from ${ev.src}`)
        s.r.preemptDeadline = s.now + c.preemptDelayCs * 10
        s.startTimer('PreemptDelay', csToUs(c.preemptDelayCs))
      }
    }
    return
  }
  // Lower priority and we preempt: ignore it, so the down timer runs out and we take over.
  s.log('info', `received lower priority (${a.priority}) advert from ${ev.src} - discarding`)
  s.r.masterAddress = ev.src
  s.r.masterPriority = a.priority
  s.r.masterDownReason = `preempting lower priority (${a.priority}) master ${ev.src}`
}

function onAdvertInMaster(s: Step, ev: ReceivedAdvert): void {
  const c = s.cfg
  if (!acceptAdvert(s, ev, true)) return
  const a = ev.advert
  const ours = s.r.effectivePriority
  if (a.priority === 0) {
    // RFC 5798 6.4.3: answer a leaving router at once so backups do not start an election.
    s.log('info', `priority 0 received from ${ev.src}, sending advert`)
    s.sendAdvert(ours)
    s.startTimer('Advert', csToUs(c.advertIntervalCs))
    return
  }
  const cmp = compareAddresses(ev.src, c.primaryAddress)
  if (a.priority === ours && cmp === 0) {
    s.log('warning', `equal priority advert received from remote host with our IP address ${ev.src}`)
    return
  }
  if (a.priority === ours && ours === 255) {
    s.log('error', `CONFIGURATION ERROR: ${ev.src} is also the address owner (priority 255); reducing our priority to 254`)
    s.r.basePriority = 254
    s.recomputePriority()
  }
  if (advertWins(a.priority, ev.src, s.r.effectivePriority, c.primaryAddress)) {
    if (c.version === 3) s.r.masterAdverIntUs = csToUs(a.advertIntervalCs)
    s.r.masterAddress = ev.src
    s.r.masterPriority = a.priority
    s.r.masterDownReason = 'master down timer expired'
    const why =
      a.priority > s.r.effectivePriority
        ? `higher priority advert (${a.priority}, ours ${s.r.effectivePriority}) from ${ev.src}`
        : `same priority ${a.priority} but higher address from ${ev.src}`
    s.leaveMasterToBackup(why)
    return
  }
  s.log('info', `received advert from ${ev.src} with lower priority ${a.priority}, ours ${ours}${c.lowerPrioNoAdvert ? '' : ', forcing new election'}`)
  if (!c.lowerPrioNoAdvert) {
    s.sendAdvert(ours)
    s.startTimer('Advert', csToUs(c.advertIntervalCs))
  }
}

function onTimer(s: Step, timer: TimerName): void {
  const deadline = s.r.timers[timer]
  // A late expiry of a timer we already stopped or re-armed elsewhere is not ours to act on.
  if (deadline === undefined) return
  delete s.r.timers[timer]
  const c = s.cfg
  switch (timer) {
    case 'MasterDown': {
      if (s.r.state !== 'Backup') return
      // kaopsd: preempting a master that is (as far as we heard) alive at a lower priority, we
      // hold the addresses before it hears us, as in an operator takeover: no gap on the way
      // back either. A master that went silent or sent priority 0 gets keepalived's order.
      const preempting = s.r.masterPriority !== null && s.r.masterPriority > 0 && s.r.masterPriority < s.r.effectivePriority
      s.becomeMaster(s.r.masterDownReason ?? 'master down timer expired', preempting)
      return
    }
    case 'Advert':
      if (s.r.state !== 'Master') return
      s.sendAdvert(s.r.effectivePriority)
      s.startTimer('Advert', csToUs(c.advertIntervalCs))
      return
    case 'PreemptDelay':
      // From now on lower-priority adverts are ignored and the down timer decides (keepalived).
      if (s.r.state === 'Backup') s.log('info', 'preempt delay expired')
      return
    case 'GarpDelay':
      if (s.r.state === 'Master') s.gratuitous(c.garp.masterRepeat)
      return
    case 'GarpRefresh':
      if (s.r.state !== 'Master') return
      s.gratuitous(c.garp.masterRefreshRepeat)
      s.startTimer('GarpRefresh', csToUs(c.garp.masterRefreshCs))
      return
    case 'TakeoverLease':
      if (s.r.takeoverUntil !== null) s.clearTakeover('lease expired')
      return
  }
}

function onTrack(s: Step, ev: Extract<RouterEvent, { kind: 'track' }>): void {
  const before = s.r.effectivePriority
  const prev = s.r.trackers[ev.name]
  s.r.trackers[ev.name] = { weight: ev.weight, up: ev.up, kind: ev.trackKind }
  if (prev && prev.up === ev.up && prev.weight === ev.weight) return
  s.log('info', `track ${ev.trackKind} ${ev.name} ${ev.up ? 'succeeded' : 'failed'}${ev.weight ? ` (weight ${ev.weight})` : ''}`)
  s.recomputePriority()
  if (s.r.effectivePriority !== before) s.log('info', `changing effective priority from ${before} to ${s.r.effectivePriority}`)
  s.settleFault(`track ${ev.trackKind} ${ev.name} ${ev.up ? 'succeeded' : 'failed'}`)
}

function onShutdown(s: Step, releaseVips: boolean): void {
  if (s.r.state === 'Stopped') return
  // Stopping ends a takeover; the timer goes with the others below, no advert but priority 0.
  if (s.r.takeoverUntil !== null) s.clearTakeover('shutdown', false)
  if (s.r.state === 'Master') {
    // RFC 3768 6.4.3: a master that stops sends priority 0 so a backup takes over after skew.
    s.sendAdvert(0)
    s.log('info', 'sent 0 priority')
  }
  if (releaseVips) s.releaseAddresses()
  s.stopAllTimers()
  s.r.state = 'Stopped'
  s.r.preemptDeadline = null
  s.log('info', 'Stopped')
  s.notify('STOP', 'shutdown')
}

const IDENTITY: (keyof RouterConfig)[] = ['vrid', 'version', 'family']

function onReload(s: Step, next: RouterConfig): void {
  const old = s.cfg
  if (IDENTITY.some((k) => old[k] !== next[k])) {
    // Another VRID/version/family is another virtual router: hand over cleanly, then start afresh.
    s.log('info', `reload changes ${IDENTITY.filter((k) => old[k] !== next[k]).join(', ')}: restarting the instance`)
    const wasRunning = s.r.state !== 'Stopped' && s.r.state !== 'Initialize'
    onShutdown(s, true)
    s.r.config = next
    s.r.basePriority = next.priority
    s.r.masterAdverIntUs = csToUs(next.advertIntervalCs)
    s.r.masterAddress = null
    s.r.masterPriority = null
    if (wasRunning) onStartup(s)
    return
  }
  s.r.config = next
  s.r.basePriority = next.priority
  s.recomputePriority()
  if (s.r.state === 'Master') {
    // Only the difference moves: an unchanged instance keeps its addresses (no flap).
    const gone = (o: string[], n: string[]): string[] => o.filter((x) => !n.includes(x))
    const rm = { addresses: gone(old.addresses, next.addresses), excluded: gone(old.excludedAddresses, next.excludedAddresses), routes: gone(old.routes, next.routes) }
    const add = { addresses: gone(next.addresses, old.addresses), excluded: gone(next.excludedAddresses, old.excludedAddresses), routes: gone(next.routes, old.routes) }
    if (rm.addresses.length + rm.excluded.length + rm.routes.length > 0) s.actions.push({ kind: 'removeAddresses', ...rm })
    if (add.addresses.length + add.excluded.length + add.routes.length > 0) {
      s.actions.push({ kind: 'addAddresses', ...add })
      const fresh = [...add.addresses, ...add.excluded]
      if (fresh.length) s.actions.push({ kind: 'sendGratuitous', family: next.family, addresses: fresh, repeat: next.garp.masterRepeat, intervalMs: next.garp.intervalCs * 10 })
    }
    if (old.advertIntervalCs !== next.advertIntervalCs) s.startTimer('Advert', csToUs(next.advertIntervalCs))
    if (next.garp.masterRefreshCs !== old.garp.masterRefreshCs) {
      if (next.garp.masterRefreshCs > 0) s.startTimer('GarpRefresh', csToUs(next.garp.masterRefreshCs))
      else s.stopTimer('GarpRefresh')
    }
  } else if (s.r.state === 'Backup' && next.version === 2) {
    s.r.masterAdverIntUs = csToUs(next.advertIntervalCs)
  }
  s.settleFault('reload')
}

function onSync(s: Step, ev: Extract<RouterEvent, { kind: 'sync' }>): void {
  if (ev.want === 'Fault') {
    s.r.syncFault = ev.reason
    s.settleFault(ev.reason)
    return
  }
  const hadSyncFault = s.r.syncFault !== null
  s.r.syncFault = null
  if (hadSyncFault) s.settleFault(ev.reason)
  if (ev.want === 'Master' && s.r.state === 'Backup') s.becomeMaster(ev.reason)
  else if (ev.want === 'Backup' && s.r.state === 'Master') s.leaveMasterToBackup(ev.reason)
}

function onTakeover(s: Step, ev: Extract<RouterEvent, { kind: 'takeover' }>): void {
  const why = ev.reason ? `operator takeover: ${ev.reason}` : 'operator takeover'
  if (s.r.state !== 'Backup' && s.r.state !== 'Master') {
    s.log('warning', `${why} refused in state ${s.r.state.toUpperCase()}`)
    return
  }
  if (s.r.state === 'Backup' && s.r.masterPriority === 255) {
    // The address owner always wins the election: taking over would only flap.
    s.log('warning', `${why} refused: the master ${s.r.masterAddress ?? '(unknown)'} is the address owner (priority 255)`)
    return
  }
  if (!(ev.leaseMs > 0)) {
    s.log('warning', `${why} refused: lease ${ev.leaseMs} ms`)
    return
  }
  const renew = s.r.takeoverUntil !== null
  const before = s.r.effectivePriority
  s.r.takeoverUntil = s.now + ev.leaseMs
  s.r.takeoverReason = ev.reason ?? null
  s.startTimer('TakeoverLease', ev.leaseMs * 1000)
  s.recomputePriority()
  const lease = `${Math.round(ev.leaseMs) / 1000} s`
  if (s.r.basePriority === 255) s.log('info', `${why} ${renew ? 'renewed' : 'started'} for ${lease}: address owner, priority stays 255`)
  else s.log('info', `${why} ${renew ? 'renewed' : 'started'} for ${lease}: priority ${before} -> ${s.r.effectivePriority}`)
  if (s.r.state === 'Backup') {
    s.becomeMaster(why, true)
    return
  }
  // Already master: say the new priority now, so a peer that preempts learns it before it
  // could start an election of its own.
  s.sendAdvert(s.r.effectivePriority)
  s.startTimer('Advert', csToUs(s.cfg.advertIntervalCs))
}

/** Feeds one event to the router at time `now` (ms, monotonic). Never throws on packet content. */
export function step(router: Router, event: RouterEvent, now: number): StepResult {
  const s = new Step(router, now)
  switch (event.kind) {
    case 'startup':
      onStartup(s)
      break
    case 'advert':
      // keepalived ignores everything while in Fault or not yet initialised; so do we.
      if (s.r.state === 'Backup') onAdvertInBackup(s, event)
      else if (s.r.state === 'Master') onAdvertInMaster(s, event)
      break
    case 'malformed':
      if (s.r.state === 'Backup' || s.r.state === 'Master') {
        s.bump(counterForDecodeError(event.error.kind))
        s.log('info', `dropped packet from ${event.src}: ${event.error.message}`)
      }
      break
    case 'timer':
      onTimer(s, event.timer)
      break
    case 'track':
      onTrack(s, event)
      break
    case 'interface':
      if (s.r.interfaceUp !== event.up) {
        s.r.interfaceUp = event.up
        s.log('info', `interface ${event.up ? 'up' : 'down'}`)
        s.settleFault(`interface ${event.up ? 'up' : 'down'}`)
      }
      break
    case 'shutdown':
      onShutdown(s, event.releaseVips !== false)
      break
    case 'reload':
      onReload(s, event.config)
      break
    case 'sync':
      onSync(s, event)
      break
    case 'takeover':
      onTakeover(s, event)
      break
    case 'takeoverEnd':
      if (s.r.takeoverUntil !== null) s.clearTakeover(event.reason ? `operator: ${event.reason}` : 'operator')
      break
  }
  return s.finish()
}
