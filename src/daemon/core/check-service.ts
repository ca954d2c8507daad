import {hostname} from 'node:os'
import type {KeepalivedConfig, ScriptCommand} from '../../model/keepalived-config.js'
import type {VirtualServerStatus} from '../../model/kaopsd-status.js'
import {realClock, type CheckClock, type RunCheck} from '../check/check-loop.js'
import {CheckSupervisor, virtualServerId, type CheckedVirtualServer} from '../check/check-supervisor.js'
import {miscVerdict} from '../check/misc-check.js'
import {runCheck} from '../check/run-check.js'
import type {Notification} from '../check/virtual-server-state.js'
import {localExec, type LbExec} from '../lb/lb-exec.js'
import {nftablesProblems} from '../lb/nft-support.js'
import {createBackend} from '../lb/select-backend.js'
import type {LbBackend} from '../lb/types.js'
import ipaddr from 'ipaddr.js'
import {listAddresses} from '../os/addresses.js'
import type {ScriptRunner} from '../os/script-runner.js'
import type {Logger} from './logger.js'
import {configuredServices, mapVirtualServers, type LvsMapping} from './lvs-mapping.js'

export interface CheckServiceOptions {
  log: Pick<Logger, 'error' | 'warning' | 'notice' | 'info' | 'debug'>
  /** The daemon's current script runner (a reload replaces it): MISC_CHECK, notify_up/down, quorum_up/down. */
  scripts: () => ScriptRunner
  /** How the kernel tools run (the lab wraps them in a namespace). */
  exec?: LbExec
  /** Where auto looks for IPVS; tests point it elsewhere. */
  procIpVs?: string
  /** Tests supply a backend instead of the kernel's. */
  backend?: LbBackend
  clock?: CheckClock
  check?: RunCheck
  /** The addresses on this host now (ha_suspend); default `ip -j address show`. Tests pass their own. */
  localAddresses?: () => Promise<Iterable<string>>
  /** How often ha_suspend looks at the host's addresses (default 1000 ms); only while a virtual_server asks for it. */
  addressPollMs?: number
}

/** One spelling per address, so 2001:db8::1 and 2001:0db8:0:0::1 compare equal. */
function canonicalAddress(a: string): string {
  try {
    return ipaddr.process(a).toString()
  } catch {
    return a
  }
}

export interface CheckReload {
  kept: string[]
  changed: string[]
  added: string[]
  removed: string[]
  /** Lines handed to the kernel tool by the reload's reconcile. */
  changes: number
}

/**
 * keepalived's checker subsystem as kaopsd runs it: maps the configuration's virtual_server
 * blocks, health-checks their real servers and keeps the load-balancing data plane reconciled
 * to the result. No virtual_server, no data plane: a VRRP-only director never touches nftables
 * or IPVS. The data plane is only ever reconciled (the backend diffs), never rebuilt.
 */
export class CheckService {
  private supervisor: CheckSupervisor | undefined
  private backend: LbBackend | undefined
  private backendSetting: string | undefined
  private scriptsByName = new Map<string, ScriptCommand>()
  private addressPoll: NodeJS.Timeout | undefined
  private addressWarned = false

  constructor(private readonly opts: CheckServiceOptions) {}

  get backendName(): VirtualServerStatus['backend'] {
    return this.backend?.name ?? 'none'
  }

  async start(config: KeepalivedConfig): Promise<void> {
    if (config.virtualServers.length === 0) return
    const servers = await this.prepare(config)
    this.supervisor = new CheckSupervisor(servers, this.backend!, {
      runNotification: (n) => this.notify(n),
      log: (line) => this.opts.log.notice(line),
    }, this.opts.clock ?? realClock, this.runCheck, () => new Date())
    // ha_suspend is decided before the first check, so a backup never probes for a VIP it lacks.
    await this.watchAddresses(servers)
    const report = await this.supervisor.start()
    for (const w of report.warnings) this.opts.log.warning(w)
    this.opts.log.notice(`checking ${servers.length} virtual server(s) on ${this.backendName}; data plane: ${report.changes} change(s)`)
  }

  /** Applies a new configuration by difference (unchanged virtual and real servers keep running). */
  async reload(config: KeepalivedConfig): Promise<CheckReload> {
    if (!this.supervisor) {
      await this.start(config)
      const added = this.supervisor ? (this.status().map((s) => s.key)) : []
      return {kept: [], changed: [], added, removed: [], changes: 0}
    }
    if (config.globalDefs.lvsBackend !== this.backendSetting) {
      this.opts.log.warning(`lvs_backend changed from ${this.backendSetting} to ${config.globalDefs.lvsBackend}: kept ${this.backendName} until restart`)
    }
    const servers = await this.prepare(config)
    await this.watchAddresses(servers)
    const r = await this.supervisor.reload(servers)
    for (const w of r.report.warnings) this.opts.log.warning(w)
    return {kept: r.kept, changed: r.changed, added: r.added, removed: r.removed, changes: r.report.changes}
  }

  /** Stops checking; removes what kaopsd programmed unless told to leave it (-I). */
  async stop(releaseDataPlane: boolean): Promise<void> {
    const sup = this.supervisor
    this.supervisor = undefined
    this.stopAddressPoll()
    if (!sup) return
    await sup.stop()
    if (releaseDataPlane) {
      try {
        await this.backend?.clear()
      } catch (err) {
        this.opts.log.error(`cannot clear the ${this.backendName} data plane: ${(err as Error).message}`)
      }
    } else {
      this.opts.log.notice(`leaving the ${this.backendName} data plane in place (-I)`)
    }
  }

  status(): VirtualServerStatus[] {
    return this.supervisor?.status(this.backendName) ?? []
  }

  /** Labels of the virtual servers ha_suspend has paused right now. */
  suspended(): string[] {
    return this.supervisor?.suspended() ?? []
  }

  /**
   * ha_suspend: looks at the host's addresses now (and tells the supervisor) and keeps polling
   * while any virtual server asks for it. kaopsd has no netlink listener; a poll of `ip` once a
   * second is cheap and a resumed checker waits for its warmup anyway.
   */
  private async watchAddresses(servers: readonly CheckedVirtualServer[]): Promise<void> {
    if (!servers.some((s) => s.suspendWithout?.length)) {
      this.stopAddressPoll()
      return
    }
    await this.refreshAddresses()
    this.addressPoll ??= setInterval(() => void this.refreshAddresses(), this.opts.addressPollMs ?? 1000)
    this.addressPoll.unref?.()
  }

  private stopAddressPoll(): void {
    if (this.addressPoll) clearInterval(this.addressPoll)
    this.addressPoll = undefined
  }

  private async refreshAddresses(): Promise<void> {
    let present: Set<string>
    try {
      const list = this.opts.localAddresses ? await this.opts.localAddresses() : (await listAddresses()).map((a) => a.address)
      present = new Set([...list].map(canonicalAddress))
      this.addressWarned = false
    } catch (err) {
      // Keep the last answer: a passing failure to list must not flip every checker.
      if (!this.addressWarned) this.opts.log.warning(`ha_suspend: cannot list this host's addresses: ${(err as Error).message}`)
      this.addressWarned = true
      return
    }
    this.supervisor?.setLocalAddresses((a) => present.has(canonicalAddress(a)))
  }

  /** Resolves once every health change seen so far is in the kernel (tests, bench). */
  settled(): Promise<unknown> {
    return this.supervisor?.settled() ?? Promise.resolve()
  }

  private async prepare(config: KeepalivedConfig): Promise<CheckedVirtualServer[]> {
    if (!this.backend) {
      this.backendSetting = config.globalDefs.lvsBackend
      this.backend = this.opts.backend ?? createBackend(config.globalDefs.lvsBackend, (line) => this.opts.log.notice(line), {
        exec: this.opts.exec ?? localExec,
        ...(this.opts.procIpVs ? {procIpVs: this.opts.procIpVs} : {}),
      })
    }
    const dr = await this.drInterfaces(config)
    const mapping: LvsMapping = mapVirtualServers(config, {heloName: hostname(), drInterface: (a) => dr.get(a)})
    for (const d of mapping.diagnostics) this.opts.log[d.severity === 'error' ? 'error' : 'warning'](`${d.file}:${d.line}: ${d.message}`)
    this.scriptsByName = mapping.scripts
    const servers: CheckedVirtualServer[] = []
    for (const m of mapping.servers) {
      if (this.backend.name === 'nftables') {
        // kaopsd -t reports these; a daemon started anyway skips them rather than program half a table.
        const problems = nftablesProblems(configuredServices(m.checked))
        if (problems.length > 0) {
          for (const p of new Set(problems)) this.opts.log.error(`${m.source.file}:${m.source.line}: ${p}; virtual_server ${virtualServerId(m.checked)} is not programmed`)
          continue
        }
      }
      servers.push(m.checked)
    }
    return servers
  }

  /** DR with nftables leaves by the interface the real servers are routed by: ask the kernel. */
  private async drInterfaces(config: KeepalivedConfig): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    if (this.backend?.name !== 'nftables') return out
    const exec = this.opts.exec ?? localExec
    const wanted = new Set(config.virtualServers.filter((v) => v.lbKind === 'DR').flatMap((v) => v.realServers.map((r) => r.address)))
    for (const address of wanted) {
      try {
        const rows = JSON.parse(await exec('ip', ['-j', 'route', 'get', address])) as Array<{dev?: string}>
        if (rows[0]?.dev) out.set(address, rows[0].dev)
      } catch (err) {
        this.opts.log.warning(`no route to real server ${address}: ${(err as Error).message}`)
      }
    }
    return out
  }

  /** MISC_CHECK runs through the script runner (user, clean environment, script security); the rest as they are. */
  private readonly runCheck: RunCheck = async (target, cfg, signal) => {
    if (cfg.type !== 'MISC_CHECK') return (this.opts.check ?? runCheck)(target, cfg, signal)
    const cmd = this.scriptsByName.get(cfg.miscPath)
    if (!cmd) return {ok: false, latencyMs: 0, detail: `misc_path ${cfg.miscPath}: not in the configuration any more`}
    const r = await this.opts.scripts().run(cmd, {timeoutMs: cfg.miscTimeoutMs})
    const v = r.status === 'ok' || r.status === 'failed' ? miscVerdict(r.exitCode, cfg.dynamic) : {ok: false}
    return {...v, latencyMs: r.durationMs, detail: r.detail}
  }

  private notify(n: Notification): void {
    const cmd = this.scriptsByName.get(n.script)
    if (!cmd) {
      this.opts.log.warning(`${n.event} script ${n.script}: not in the configuration any more`)
      return
    }
    // One queue for the checker's scripts keeps them in the order the changes happened.
    void this.opts.scripts().enqueue('lvs', cmd)
  }
}
