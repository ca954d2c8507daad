import type {KeepalivedConfig, VrrpScriptConfig, VrrpSyncGroupConfig} from '../../model/keepalived-config.js'
import type {TakeoverInstance, TakeoverStatus, VrrpInstanceStatus, VrrpStateName} from '../../model/kaopsd-status.js'
import {ownFaultReason, syncGroupDecisions, withSyncGroupMembers, type RouterStateName} from '../vrrp/index.js'
import {addAddress, listAddresses, type InterfaceAddress} from '../os/addresses.js'
import {addRoute} from '../os/routes.js'
import {deleteVmac, ensureVmac} from '../os/vmac.js'
import {instanceSpecs, routeWords, toInterfaceAddress, type HostFacts, type InstanceSpec} from './instance-spec.js'
import {InterfaceWatch} from './interface-watch.js'
import {monotonicMs} from './clock.js'
import type {Logger} from './logger.js'
import {TrackScriptLoop, type ScriptExecutor} from './track-script.js'
import {VrrpInstanceRunner, type Transition} from './vrrp-instance.js'
import {VrrpSockets, type AdvertSink} from './vrrp-sockets.js'

const stateNames: Record<RouterStateName, VrrpStateName> = {
  Initialize: 'INIT',
  Backup: 'BACKUP',
  Master: 'MASTER',
  Fault: 'FAULT',
  Stopped: 'STOP',
}

export function stateName(s: RouterStateName): VrrpStateName {
  return stateNames[s]
}

/** Reads which addresses each interface has, once, so specs are built without more I/O. */
export async function readHostFacts(): Promise<HostFacts> {
  const all: InterfaceAddress[] = await listAddresses()
  return {
    primaryAddress(interfaceName, family) {
      const mine = all.filter((a) => a.device === interfaceName && a.address.includes(':') === (family === 6))
      // IPv6 VRRP speaks from the link-local address (RFC 5798 section 5.1.2.1).
      const pick = family === 6 ? mine.find((a) => a.address.toLowerCase().startsWith('fe80:')) : mine[0]
      return pick?.address
    },
  }
}

interface Entry {
  runner: VrrpInstanceRunner
  sink: AdvertSink
}

export interface VrrpServiceOptions {
  log: Logger
  onTransition?: (t: Transition, spec: InstanceSpec) => void
  scriptExecutor?: ScriptExecutor
  /** Builds host facts; tests and reloads may pass their own. */
  hostFacts?: () => Promise<HostFacts>
}

/**
 * Every vrrp_instance of a configuration, running: the runners, their sockets, the tracked
 * scripts and interfaces that feed them, and the sync groups that tie them together. Reload
 * applies only the difference: an unchanged instance is not touched at all.
 */
export class VrrpService {
  readonly #entries = new Map<string, Entry>()
  readonly #scripts = new Map<string, {loop: TrackScriptLoop; fingerprint: string}>()
  readonly #interfaces = new InterfaceWatch()
  readonly #sockets: VrrpSockets
  #config: KeepalivedConfig | undefined
  #syncing = false

  constructor(private readonly opts: VrrpServiceOptions) {
    this.#sockets = new VrrpSockets(opts.log)
  }

  get instanceNames(): string[] {
    return [...this.#entries.keys()]
  }

  runner(name: string): VrrpInstanceRunner | undefined {
    return this.#entries.get(name)?.runner
  }

  async start(config: KeepalivedConfig): Promise<void> {
    await this.#applyStatic(config)
    await this.#apply(config)
  }

  async reload(config: KeepalivedConfig): Promise<{kept: string[]; changed: string[]; added: string[]; removed: string[]}> {
    await this.#applyStatic(config)
    return this.#apply(config)
  }

  async stop(releaseVips: boolean): Promise<void> {
    for (const s of this.#scripts.values()) s.loop.stop()
    this.#scripts.clear()
    this.#interfaces.unwatchAll()
    await Promise.all([...this.#entries.values()].map((e) => e.runner.stop(releaseVips)))
    for (const e of this.#entries.values()) this.#sockets.detach(e.sink)
    // With -V the VIPs stay, and they live on the vmacs: those stay too.
    if (releaseVips) {
      const specs = [...this.#entries.values()].map((e) => e.runner.spec)
      for (const [i, spec] of specs.entries()) await this.#removeVmac(spec, specs.slice(i + 1))
    }
    this.#entries.clear()
    this.#sockets.close()
  }

  status(): VrrpInstanceStatus[] {
    const now = monotonicMs()
    const groupOf = new Map<string, string>()
    for (const g of this.#config?.vrrpSyncGroups ?? []) for (const m of g.instances) groupOf.set(m, g.name)
    return [...this.#entries.values()].map(({runner}) => {
      const spec = runner.spec
      const st = runner.status()
      const t = runner.lastTransition
      return {
        name: spec.name,
        state: stateName(st.state),
        vrid: spec.router.vrid,
        interface: spec.interfaceName,
        version: spec.router.version,
        family: spec.family,
        priority: spec.router.priority,
        effectivePriority: st.effectivePriority,
        vips: [...spec.config.virtualIpAddresses, ...spec.config.virtualIpAddressesExcluded].map((a) => `${a.address}/${a.prefixLength}`),
        masterAddress: st.masterAddress,
        lastTransition: t ? {at: t.at.toISOString(), from: stateName(t.from), to: stateName(t.to), reason: t.reason} : null,
        syncGroup: groupOf.get(spec.name) ?? null,
        stats: {...runner.router.counters},
        takeover: takeoverStatus(runner, now),
      }
    })
  }

  /**
   * Operator takeover (`kaopsd takeover`) of the named instances (none: all) and the other
   * members of their sync groups: priority 254 for leaseMs, master at once. All or nothing up
   * front: an unknown name, or an instance that is not BACKUP or MASTER, refuses the whole
   * request before any instance moves. Throws naming each instance that did not end up MASTER.
   */
  takeover(names: readonly string[], leaseMs: number, reason?: string): TakeoverInstance[] {
    const runners = this.#takeoverScope(names)
    const unable = runners.filter((r) => r.router.state !== 'Backup' && r.router.state !== 'Master')
    if (unable.length > 0) throw new Error(`cannot take over: ${unable.map((r) => `${r.spec.name} is ${stateName(r.router.state)}`).join(', ')}`)
    this.#feedGroupAtOnce(runners, {kind: 'takeover', leaseMs, ...(reason ? {reason} : {})})
    const answer = runners.map((r) => takeoverInstance(r))
    const notMaster = runners.filter((r) => r.router.state !== 'Master')
    if (notMaster.length > 0) {
      throw new Error(`takeover refused: ${notMaster.map((r) => `${r.spec.name} stays ${stateName(r.router.state)}`).join(', ')} (see the kaopsd log for why)`)
    }
    return answer
  }

  /** Ends the takeover of the named instances (none: all) and their sync groups' members. */
  endTakeover(names: readonly string[], reason?: string): TakeoverInstance[] {
    const runners = this.#takeoverScope(names)
    this.#feedGroupAtOnce(runners, {kind: 'takeoverEnd', ...(reason ? {reason} : {})})
    return runners.map((r) => takeoverInstance(r))
  }

  #takeoverScope(names: readonly string[]): VrrpInstanceRunner[] {
    if (this.#entries.size === 0) throw new Error('no VRRP instances are running')
    const unknown = names.filter((n) => !this.#entries.has(n))
    if (unknown.length > 0) throw new Error(`unknown VRRP instance ${unknown.join(', ')} (running: ${this.instanceNames.join(', ')})`)
    const wanted = names.length > 0 ? withSyncGroupMembers(names, this.#config?.vrrpSyncGroups ?? []) : this.instanceNames
    return wanted.flatMap((n) => this.#entries.get(n)?.runner ?? [])
  }

  /**
   * Feeds one event to several instances as one move: the sync groups are held back while it
   * runs (else the first member to become master would drag the others up at their configured
   * priority), then each group involved settles once.
   */
  #feedGroupAtOnce(runners: VrrpInstanceRunner[], event: Parameters<VrrpInstanceRunner['handle']>[0]): void {
    const was = this.#syncing
    this.#syncing = true
    try {
      for (const r of runners) r.handle(event)
    } finally {
      this.#syncing = was
    }
    const groups = new Set(runners.flatMap((r) => this.#syncGroupOf(r.spec.name) ?? []))
    for (const g of groups) {
      const first = this.#entries.get(g.instances[0] ?? '')?.runner
      if (!first) continue
      const state = first.router.state
      this.#followSyncGroup(g, {instance: first.spec.name, from: state, to: state, priority: first.router.effectivePriority, reason: 'takeover', at: new Date()})
    }
  }

  /** Waits until queued address changes are done (tests and graceful stops). */
  async settled(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((e) => e.runner.settled()))
  }

  async #applyStatic(config: KeepalivedConfig): Promise<void> {
    for (const a of config.staticIpAddresses) {
      if (!a.dev) continue
      await addAddress(toInterfaceAddress(a, a.dev)).catch((err) => this.opts.log.error(`static_ipaddress ${a.address}: ${String(err)}`))
    }
    for (const r of config.staticRoutes) {
      await addRoute({words: routeWords(r)}).catch((err) => this.opts.log.error(`static_routes ${r.destination}: ${String(err)}`))
    }
  }

  async #apply(config: KeepalivedConfig) {
    const facts = await (this.opts.hostFacts ?? readHostFacts)()
    const specs = instanceSpecs(config, facts)
    this.#config = config
    const wanted = new Map(specs.map((s) => [s.name, s]))
    const kept: string[] = []
    const changed: string[] = []
    const added: string[] = []
    const removed: string[] = []

    for (const [name, entry] of [...this.#entries]) {
      const next = wanted.get(name)
      if (next && next.fingerprint === entry.runner.spec.fingerprint) {
        kept.push(name)
        continue
      }
      if (next && next.interfaceName === entry.runner.spec.interfaceName && next.xmitInterface === entry.runner.spec.xmitInterface && next.family === entry.runner.spec.family && next.router.vrid === entry.runner.spec.router.vrid) {
        entry.runner.reload(next)
        changed.push(name)
        continue
      }
      // Gone, or moved to another interface/VRID: it leaves as a stopping router would.
      await entry.runner.stop(true)
      this.#sockets.detach(entry.sink)
      this.#entries.delete(name)
      if (entry.runner.spec.vmac && next?.vmac?.name !== entry.runner.spec.vmac.name) {
        await this.#removeVmac(entry.runner.spec, specs)
      }
      if (!next) removed.push(name)
    }

    for (const spec of specs) {
      if (this.#entries.has(spec.name)) continue
      if (spec.vmac) {
        try {
          const how = await ensureVmac(spec.vmac)
          this.opts.log.info(`(${spec.name}) ${how === 'created' ? 'created' : 'kept'} VMAC ${spec.vmac.name} on ${spec.vmac.parent}`)
        } catch (err) {
          // The instance still starts: with no vmac its socket fails and it stays in FAULT,
          // which is what an operator should see, with this line saying why.
          this.opts.log.error(`(${spec.name}) cannot create VMAC ${spec.vmac.name}: ${String(err)}`)
        }
      }
      const entry = this.#create(spec)
      this.#entries.set(spec.name, entry)
      if (!changed.includes(spec.name)) added.push(spec.name)
      else changed.push(spec.name)
    }

    this.#syncScripts(config.vrrpScripts)
    for (const name of [...added, ...changed]) {
      const entry = this.#entries.get(name)
      if (entry && entry.runner.router.state === 'Initialize') entry.runner.start()
    }
    await this.#watchInterfaces()
    this.#replayTracking()
    return {kept, changed, added, removed}
  }

  #create(spec: InstanceSpec): Entry {
    const log = this.opts.log
    const runner: VrrpInstanceRunner = new VrrpInstanceRunner(
      spec,
      {
        sendAdvert: (payload, dst) => this.#sockets.send(runner.spec.xmitInterface, runner.spec.family, payload, dst, runner.spec.router.primaryAddress),
        sendGratuitous: (addresses) => {
          try {
            // Each address is announced on its own device (a VIP may carry `dev`).
            const byDevice = new Map<string, string[]>()
            for (const a of addresses) {
              const dev = runner.spec.addresses.get(a)?.device ?? runner.spec.interfaceName
              byDevice.set(dev, [...(byDevice.get(dev) ?? []), a])
            }
            for (const [dev, list] of byDevice) this.#sockets.sendGratuitous(dev, runner.spec.family, runner.spec.router.primaryAddress, list)
          } catch (err) {
            log.error(`(${runner.spec.name}) gratuitous ARP failed: ${String(err)}`)
          }
        },
        onTransition: (t) => this.#onTransition(t, runner),
      },
      log,
    )
    const sink: AdvertSink = {
      // Adverts arrive where they are sent from: the base interface with vmac_xmit_base.
      interfaceName: spec.xmitInterface,
      family: spec.family,
      vrid: spec.router.vrid,
      deliver: (event) => runner.handle(event),
    }
    this.#sockets.attach(sink)
    return {runner, sink}
  }

  /** Deletes an instance's vmac; the parent's sysctls go back once no other instance uses it. */
  async #removeVmac(spec: InstanceSpec, remaining: InstanceSpec[]): Promise<void> {
    if (!spec.vmac) return
    const parent = spec.vmac.parent
    const others = remaining.some((s) => s.name !== spec.name && s.vmac?.parent === parent)
    try {
      await deleteVmac(spec.vmac, others)
      this.opts.log.info(`(${spec.name}) deleted VMAC ${spec.vmac.name}`)
    } catch (err) {
      this.opts.log.error(`(${spec.name}) deleting VMAC ${spec.vmac.name}: ${String(err)}`)
    }
  }

  #onTransition(t: Transition, runner: VrrpInstanceRunner): void {
    this.opts.onTransition?.(t, runner.spec)
    const group = this.#syncGroupOf(t.instance)
    if (group) this.#followSyncGroup(group, t)
  }

  #syncGroupOf(instance: string): VrrpSyncGroupConfig | undefined {
    return this.#config?.vrrpSyncGroups.find((g) => g.instances.includes(instance))
  }

  /** Members of a sync group follow one another; decisions are fed until none are left. */
  #followSyncGroup(group: VrrpSyncGroupConfig, t: Transition): void {
    if (this.#syncing) return
    this.#syncing = true
    try {
      for (let round = 0; round < 8; round++) {
        const members = group.instances.flatMap((name) => {
          const r = this.#entries.get(name)?.runner
          if (!r) return []
          const state = r.router.state
          return [{name, before: name === t.instance ? t.from : state, after: state, ownFault: ownFaultReason(r.router) !== null}]
        })
        const decisions = syncGroupDecisions(group.name, members)
        if (decisions.length === 0) return
        for (const d of decisions) this.#entries.get(d.member)?.runner.handle({kind: 'sync', want: d.want, reason: d.reason})
        t = {...t, from: t.to}
      }
    } finally {
      this.#syncing = false
    }
  }

  #syncScripts(scripts: VrrpScriptConfig[]): void {
    const wanted = new Map(scripts.map((s) => [s.name, s]))
    for (const [name, s] of [...this.#scripts]) {
      const next = wanted.get(name)
      if (next && fingerprint(next) === s.fingerprint) continue
      s.loop.stop()
      this.#scripts.delete(name)
    }
    for (const script of scripts) {
      if (this.#scripts.has(script.name)) continue
      if (!this.#isScriptUsed(script.name)) continue
      const loop = new TrackScriptLoop(script, () => this.#scriptChanged(script.name), this.opts.log, this.opts.scriptExecutor)
      this.#scripts.set(script.name, {loop, fingerprint: fingerprint(script)})
      loop.start()
    }
  }

  #isScriptUsed(name: string): boolean {
    for (const e of this.#entries.values()) if (e.runner.spec.config.trackScripts.some((t) => t.name === name)) return true
    return (this.#config?.vrrpSyncGroups ?? []).some((g) => g.trackScripts.some((t) => t.name === name))
  }

  /** Tracked objects of an instance: its own and its sync group's. */
  #trackedScripts(runner: VrrpInstanceRunner) {
    const group = this.#syncGroupOf(runner.spec.name)
    return [...runner.spec.config.trackScripts, ...(group?.trackScripts ?? [])]
  }

  #scriptChanged(name: string): void {
    const s = this.#scripts.get(name)
    if (!s) return
    for (const {runner} of this.#entries.values()) {
      for (const ref of this.#trackedScripts(runner)) {
        if (ref.name !== name) continue
        runner.handle({kind: 'track', name: `script:${name}`, trackKind: 'script', up: s.loop.up, weight: ref.weight ?? s.loop.script.weight})
      }
    }
  }

  async #watchInterfaces(): Promise<void> {
    this.#interfaces.unwatchAll()
    const names = new Set<string>()
    for (const {runner} of this.#entries.values()) {
      names.add(runner.spec.interfaceName)
      for (const t of runner.spec.config.trackInterfaces) names.add(t.name)
      for (const t of this.#syncGroupOf(runner.spec.name)?.trackInterfaces ?? []) names.add(t.name)
    }
    for (const name of names) await this.#interfaces.watch(name, (up) => this.#interfaceChanged(name, up))
  }

  #interfaceChanged(name: string, up: boolean): void {
    for (const {runner} of this.#entries.values()) {
      const spec = runner.spec
      if (spec.interfaceName === name && !spec.config.dontTrackPrimary) runner.handle({kind: 'interface', up})
      const refs = [...spec.config.trackInterfaces, ...(this.#syncGroupOf(spec.name)?.trackInterfaces ?? [])]
      for (const ref of refs) {
        if (ref.name === name) runner.handle({kind: 'track', name: `interface:${name}`, trackKind: 'interface', up, weight: ref.weight})
      }
    }
  }

  /** New or changed runners learn the current result of every script they track. */
  #replayTracking(): void {
    for (const name of this.#scripts.keys()) this.#scriptChanged(name)
  }
}

function takeoverStatus(runner: VrrpInstanceRunner, now: number): TakeoverStatus | null {
  const until = runner.router.takeoverUntil
  if (until === null) return null
  const leftMs = Math.max(0, until - now)
  return {until: new Date(Date.now() + leftMs).toISOString(), secondsLeft: Math.ceil(leftMs / 1000), reason: runner.router.takeoverReason}
}

function takeoverInstance(runner: VrrpInstanceRunner): TakeoverInstance {
  return {
    name: runner.spec.name,
    state: stateName(runner.router.state),
    priority: runner.spec.router.priority,
    effectivePriority: runner.router.effectivePriority,
    takeover: takeoverStatus(runner, monotonicMs()),
  }
}

function fingerprint(s: VrrpScriptConfig): string {
  return JSON.stringify(s, (k, v) => (k === 'source' ? undefined : v))
}
