import {basename} from 'node:path'
import type {ConfigNode} from '../daemon/config/tree.js'
import type {
  CheckerConfig,
  RealServerConfig,
  ScriptCommand,
  VirtualServerConfig,
  VrrpInstanceConfig,
  VrrpScriptConfig,
} from '../model/keepalived-config.js'
import type {DirectorSource} from './read-config.js'
import {nodeHead, nodeLines, where} from './raw-text.js'

/**
 * keepalived.conf models of several directors -> ONE inventory document (plain data in the
 * schema's shape, ready for YAML). Pure: no I/O. Every statement is either mapped to an
 * inventory field or carried into a raw escape hatch with a warning naming file:line; nothing
 * is dropped silently. Secrets never enter the result: authentication becomes an env reference.
 */

export interface ImportWarning {
  /** file:line of the statement, or the director when it is about a whole file. */
  where: string
  message: string
}

export interface ImportResult {
  /** The inventory as plain data (schema shape). */
  inventory: Record<string, unknown>
  warnings: ImportWarning[]
  /** Things the operator must do before using it (export secrets, check prefixes). */
  notes: string[]
  /** Environment variables the inventory references, with the VIPs they are for. */
  secretEnv: Array<{env: string; vip: string}>
}

export interface ImportOptions {
  /** metadata.name; default "imported". */
  name?: string
}

type Obj = Record<string, unknown>

const sec = (ms: number): number => Math.round(ms) / 1000

/** Whole seconds for the inventory's integer fields; a fraction is rounded up, with a warning. */
function whole(ms: number, c: Collector, at: string, what: string): number {
  const s = sec(ms)
  if (Number.isInteger(s)) return s
  const up = Math.max(1, Math.ceil(s))
  c.warn(at, `${what} ${s}s: the inventory takes whole seconds; imported as ${up}`)
  return up
}
const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/

function safeName(s: string, fallback: string): string {
  let n = s.replace(/[^A-Za-z0-9_.-]/g, '_')
  if (!/^[A-Za-z]/.test(n)) n = `d${n}`
  n = n.slice(0, 64)
  return NAME_RE.test(n) ? n : fallback
}

const cmd = (c: ScriptCommand | undefined): string | undefined => c?.command
const envName = (vip: string): string => `KAOPS_VRRP_PASS_${vip.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`

/** Keywords of each block that the importer maps to inventory fields. */
const MAPPED_GLOBAL = new Set(['notification_email', 'notification_email_from', 'smtp_server', 'smtp_connect_timeout', 'router_id', 'script_user', 'enable_script_security'])
const MAPPED_INSTANCE = new Set([
  'state', 'interface', 'virtual_router_id', 'priority', 'advert_int', 'version', 'authentication', 'virtual_ipaddress',
  'nopreempt', 'preempt', 'preempt_delay', 'unicast_src_ip', 'unicast_peer', 'mcast_src_ip', 'track_script', 'track_interface',
  'notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify', 'smtp_alert', 'garp_master_delay',
])
const MAPPED_VS = new Set(['delay_loop', 'lb_algo', 'lb_kind', 'lvs_method', 'persistence_timeout', 'persistence_granularity', 'protocol', 'quorum', 'hysteresis', 'quorum_up', 'quorum_down', 'sorry_server', 'real_server'])
const MAPPED_RS = new Set(['weight', 'inhibit_on_failure', 'notify_up', 'notify_down', 'HTTP_GET', 'SSL_GET', 'TCP_CHECK', 'SMTP_CHECK', 'MISC_CHECK'])
const SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'sh', 'dh'])

interface DirectorInfo {
  name: string
  src: DirectorSource
}

class Collector {
  warnings: ImportWarning[] = []
  notes: string[] = []
  warn(at: string, message: string): void {
    this.warnings.push({where: at, message})
  }
}

function directorName(src: DirectorSource, index: number, taken: Set<string>): string {
  const file = basename(src.file).replace(/\.conf$/, '')
  const candidates = [src.name, src.config.globalDefs.routerId, file === 'keepalived' ? undefined : file].filter((x): x is string => !!x)
  let name = safeName(candidates[0] ?? `director${index + 1}`, `director${index + 1}`)
  if (taken.has(name)) name = `${name}-${index + 1}`
  taken.add(name)
  return name
}

function topNodes(src: DirectorSource, keyword: string): ConfigNode[] {
  return src.tree.filter((n) => n.keyword === keyword)
}

/** The node of a vrrp_instance / virtual_server, found by where the model says it started. */
function nodeAt(src: DirectorSource, file: string, line: number): ConfigNode | undefined {
  return src.tree.find((n) => n.file === file && n.line === line)
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  let best: string | undefined
  for (const [v, c] of counts) if (best === undefined || c > counts.get(best)!) best = v
  return best
}

function directorAddress(d: DirectorInfo, c: Collector): string | undefined {
  if (d.src.address) return d.src.address.includes('/') ? d.src.address : `${d.src.address}/24`
  const inst = d.src.config.vrrpInstances
  const ip = inst.find((i) => i.unicastSrcIp)?.unicastSrcIp ?? inst.find((i) => i.mcastSrcIp)?.mcastSrcIp
  if (!ip) return undefined
  // keepalived.conf names the address but not its prefix; /24 is a guess the operator checks.
  c.notes.push(`director ${d.name}: address ${ip}/24 comes from unicast_src_ip/mcast_src_ip; check the prefix length`)
  return `${ip}/24`
}

function trackScript(s: VrrpScriptConfig, weightOverride: number | undefined, c: Collector): Obj {
  const o: Obj = {name: s.name, script: s.script?.command ?? ''}
  o.interval = whole(s.intervalMs, c, where(s.source), `vrrp_script ${s.name}: interval`)
  if (s.timeoutMs !== s.intervalMs) o.timeout = whole(s.timeoutMs, c, where(s.source), `vrrp_script ${s.name}: timeout`)
  const w = weightOverride ?? s.weight
  if (w !== 0) o.weight = w
  o.fall = s.fall
  o.rise = s.rise
  if (s.user) o.user = s.user.user
  return o
}

function notifyHooks(x: {notifyMaster?: ScriptCommand; notifyBackup?: ScriptCommand; notifyFault?: ScriptCommand; notifyStop?: ScriptCommand; notify?: ScriptCommand}): Obj | undefined {
  const o: Obj = {}
  if (x.notifyMaster) o.master = cmd(x.notifyMaster)
  if (x.notifyBackup) o.backup = cmd(x.notifyBackup)
  if (x.notifyFault) o.fault = cmd(x.notifyFault)
  if (x.notifyStop) o.stop = cmd(x.notifyStop)
  if (x.notify) o.notify = cmd(x.notify)
  return Object.keys(o).length > 0 ? o : undefined
}

/** Unmapped children of a block, as raw lines, each warned about. */
function unmappedChildren(node: ConfigNode | undefined, mapped: Set<string>, what: string, c: Collector): string[] {
  if (!node?.children) return []
  const out: string[] = []
  for (const ch of node.children) {
    if (mapped.has(ch.keyword)) continue
    c.warn(where(ch), `${what}: '${nodeHead(ch)}' has no inventory field; carried over as a raw line`)
    out.push(...nodeLines(ch))
  }
  return out
}

function addressOf(a: {address: string; prefixLength: number; broadcast?: string; dev?: string; label?: string; scope?: string}): Obj | string {
  const cidr = `${a.address}/${a.prefixLength}`
  const o: Obj = {address: cidr}
  if (a.broadcast) o.brd = a.broadcast
  if (a.dev) o.dev = a.dev
  if (a.label) o.label = a.label
  if (a.scope) o.scope = a.scope
  return Object.keys(o).length === 1 ? cidr : o
}

function healthCheck(ch: CheckerConfig, c: Collector): Obj | undefined {
  switch (ch.type) {
    case 'HTTP_GET':
    case 'SSL_GET': {
      const o: Obj = {type: ch.type}
      const url = ch.urls[0]
      if (ch.urls.length > 1) c.warn(where(ch.source), `${ch.type}: only the first url is imported (${ch.urls.length} given)`)
      if (url) {
        o.path = url.path
        const codes = url.statusCodes
        if (codes.length === 1 && codes[0]![0] === codes[0]![1]) o.statusCode = codes[0]![0]
        else if (!(codes.length === 1 && codes[0]![0] === 200 && codes[0]![1] === 299)) c.warn(where(url.source), `${ch.type}: status_code ranges are not supported by the inventory; the first code is kept`)
        if (url.digest) o.digest = url.digest
      }
      if (ch.virtualhost) o.virtualhost = ch.virtualhost
      return {...o, ...common(ch, c)}
    }
    case 'TCP_CHECK':
      return {type: ch.type, ...common(ch, c)}
    case 'SMTP_CHECK':
      return {type: ch.type, ...(ch.heloName ? {helo: ch.heloName} : {}), ...common(ch, c)}
    case 'MISC_CHECK': {
      const o: Obj = {type: ch.type, script: ch.miscPath?.command ?? ''}
      if (ch.miscTimeoutMs !== undefined) o.timeout = whole(ch.miscTimeoutMs, c, where(ch.source), 'MISC_CHECK misc_timeout')
      if (ch.miscDynamic) o.dynamic = true
      return o
    }
    default:
      c.warn(where(ch.source), `${ch.type} has no inventory form; this real server is imported without a health check (add it back through the director raw lines)`)
      return undefined
  }
}

function common(ch: Exclude<CheckerConfig, {type: 'MISC_CHECK'}>, c: Collector): Obj {
  const o: Obj = {}
  if (ch.connectPort !== undefined) o.connectPort = ch.connectPort
  o.connectTimeout = whole(ch.connectTimeoutMs, c, where(ch.source), `${ch.type} connect_timeout`)
  o.retry = ch.retry
  o.delayBeforeRetry = whole(ch.delayBeforeRetryMs, c, where(ch.source), `${ch.type} delay_before_retry`)
  return o
}

const rsName = (addr: string): string => `rs-${addr.replace(/[.:]/g, '-')}`

function service(vs: VirtualServerConfig, vipName: string, node: ConfigNode | undefined, c: Collector, realServers: Map<string, Obj>): Obj {
  const t = vs.target as {address: string; port: number}
  const name = safeName(`${vipName}-${t.port}`, `svc-${t.port}`)
  const s: Obj = {name, vip: vipName, address: t.address, port: t.port, protocol: vs.protocol, scheduler: vs.lbAlgo, forwarding: vs.lbKind}
  s.delayLoop = whole(vs.delayLoopMs, c, where(vs.source), 'virtual_server delay_loop')
  if (vs.persistenceTimeoutSec !== undefined) {
    s.persistence = {timeout: vs.persistenceTimeoutSec, ...(vs.persistenceGranularity ? {granularity: vs.persistenceGranularity} : {})}
  }
  if (vs.quorum !== 1) s.quorum = vs.quorum
  if (vs.hysteresis !== 0) s.hysteresis = vs.hysteresis
  if (vs.quorumUp) s.quorumUp = vs.quorumUp.command
  if (vs.quorumDown) s.quorumDown = vs.quorumDown.command
  if (vs.sorryServer) s.sorryServer = {address: vs.sorryServer.address, ...(vs.sorryServer.port !== undefined ? {port: vs.sorryServer.port} : {})}
  const raw = unmappedChildren(node, MAPPED_VS, `virtual_server ${t.address} ${t.port}`, c)
  const rsNodes = (node?.children ?? []).filter((n) => n.keyword === 'real_server')
  const checks = vs.realServers.map((r) => (r.checkers[0] ? healthCheck(r.checkers[0], c) : undefined))
  const same = checks.length > 0 && checks.every((h) => JSON.stringify(h) === JSON.stringify(checks[0]))
  if (same && checks[0]) s.healthCheck = checks[0]
  s.realServers = vs.realServers.map((r: RealServerConfig, i) => {
    const rname = rsName(r.address)
    if (!realServers.has(r.address)) realServers.set(r.address, {name: rname, address: `${r.address}/${r.family === 6 ? 128 : 32}`, prepare: false})
    const o: Obj = {name: rname}
    if (r.port !== undefined && r.port !== t.port) o.port = r.port
    o.weight = r.weight
    if (r.inhibitOnFailure) o.inhibitOnFailure = true
    if (r.notifyUp) o.notifyUp = r.notifyUp.command
    if (r.notifyDown) o.notifyDown = r.notifyDown.command
    if (!same && checks[i]) o.healthCheck = checks[i]
    if (r.checkers.length > 1) c.warn(where(r.checkers[1]!.source), `real_server ${r.address}: only the first checker is imported (${r.checkers.length} given)`)
    const rnode = rsNodes.find((n) => n.line === r.source.line && n.file === r.source.file)
    for (const ch of rnode?.children ?? []) {
      if (MAPPED_RS.has(ch.keyword)) continue
      // A real server has no raw hatch of its own: the line is kept as a comment in the virtual
      // server so the operator sees it in the rendered file, and is warned.
      c.warn(where(ch), `real_server ${r.address}: '${nodeHead(ch)}' has no inventory field; kept only as a comment in the service's raw lines`)
      raw.push(`# real_server ${r.address}: ${nodeHead(ch)}`)
    }
    return o
  })
  if (raw.length > 0) s.raw = raw
  return s
}

/** Merge the directors' keepalived.conf models into one inventory. */
export function mapInventory(sources: DirectorSource[], opts: ImportOptions = {}): ImportResult {
  const c = new Collector()
  const taken = new Set<string>()
  const directors: DirectorInfo[] = sources.map((src, i) => ({name: directorName(src, i, taken), src}))

  // keepalived's own parse problems come first: the operator fixes the source, or knows why.
  for (const d of directors) for (const diag of d.src.diagnostics) c.warn(`${diag.file}:${diag.line}`, `keepalived.conf ${diag.severity}: ${diag.message}`)

  const inventory: Obj = {apiVersion: 'kaops/v1', kind: 'Inventory', metadata: {name: opts.name ?? 'imported', description: `Imported by kaops import from ${sources.map((s) => s.file).join(', ')}`}}
  const dirOut: Obj[] = []
  for (const d of directors) {
    const address = directorAddress(d, c)
    const iface = mostCommon(d.src.config.vrrpInstances.map((i) => i.interface).filter((x): x is string => !!x)) ?? d.src.config.globalDefs.defaultInterface ?? 'eth0'
    if (!address) {
      c.warn(d.src.file, `director ${d.name}: no address found (no unicast_src_ip/mcast_src_ip); 198.18.0.0/32 is a placeholder: pass --address ${d.name}=CIDR`)
    }
    dirOut.push({name: d.name, address: address ?? '198.18.0.0/32', interface: iface})
  }

  // global_defs: one set for the site; what differs between directors is warned about.
  const g0 = directors[0]?.src.config.globalDefs
  const notifications: Obj = {}
  if (g0) {
    if (g0.notificationEmail.length > 0) notifications.emails = g0.notificationEmail
    if (g0.notificationEmailFrom) notifications.from = g0.notificationEmailFrom
    if (g0.smtpServer) notifications.smtpServer = g0.smtpServer.port === 25 ? g0.smtpServer.host : `${g0.smtpServer.host}:${g0.smtpServer.port}`
    if (g0.smtpConnectTimeoutMs !== 30_000) notifications.smtpConnectTimeout = whole(g0.smtpConnectTimeoutMs, c, directors[0]!.src.file, 'smtp_connect_timeout')
  }
  for (const d of directors.slice(1)) {
    const g = d.src.config.globalDefs
    if (JSON.stringify([g.notificationEmail, g.notificationEmailFrom, g.smtpServer]) !== JSON.stringify([g0!.notificationEmail, g0!.notificationEmailFrom, g0!.smtpServer])) {
      c.warn(`${d.src.file}`, `director ${d.name}: notification settings differ from ${directors[0]!.name}'s; ${directors[0]!.name}'s are imported`)
    }
  }
  const keepalived: Obj = {}
  if (g0?.scriptUser) keepalived.scriptUser = g0.scriptUser.user
  if (g0?.enableScriptSecurity) keepalived.enableScriptSecurity = true
  const globalRaw: string[] = []
  for (const d of directors) {
    for (const n of topNodes(d.src, 'global_defs')) {
      for (const line of unmappedChildren(n, MAPPED_GLOBAL, `global_defs of ${d.name}`, c)) if (!globalRaw.includes(line)) globalRaw.push(line)
    }
  }
  if (globalRaw.length > 0) keepalived.globalDefs = globalRaw

  // VRRP instances: the same VRID on the directors is one VIP.
  const vips = new Map<number, {out: Obj; first: {d: DirectorInfo; i: VrrpInstanceConfig}; raw: string[]}>()
  const syncGroups = new Map<string, Obj>()
  const secretEnv: Array<{env: string; vip: string}> = []
  for (const d of directors) {
    const cfg = d.src.config
    const dirIface = dirOut.find((x) => x.name === d.name)!.interface as string
    for (const inst of cfg.vrrpInstances) {
      const node = nodeAt(d.src, inst.source.file, inst.source.line)
      const raw = unmappedChildren(node, MAPPED_INSTANCE, `vrrp_instance ${inst.name}`, c)
      let entry = vips.get(inst.virtualRouterId)
      if (!entry) {
        const name = safeName(inst.name, `VI_${inst.virtualRouterId}`)
        const v: Obj = {name, vrid: inst.virtualRouterId, addresses: inst.virtualIpAddresses.map(addressOf)}
        if (inst.interface && inst.interface !== dirIface) v.interface = inst.interface
        v.version = inst.version
        v.advertInterval = sec(inst.advertIntervalMs)
        if (inst.authentication) {
          const env = envName(name)
          v.authentication = {type: inst.authentication.type, secret: {env}}
          secretEnv.push({env, vip: name})
        }
        v.priorities = {}
        if (inst.nopreempt) v.preempt = false
        if (inst.preemptDelayMs > 0) v.preemptDelay = whole(inst.preemptDelayMs, c, where(inst.source), 'preempt_delay')
        if (inst.unicastPeers.length > 0) v.unicast = true
        const scripts = inst.trackScripts.flatMap((ref) => {
          const s = cfg.vrrpScripts.find((x) => x.name === ref.name)
          if (!s) {
            c.warn(where(ref.source), `track_script ${ref.name}: no vrrp_script of that name; dropped from the VIP (keepalived ignores it too)`)
            return []
          }
          if (ref.reverse) c.warn(where(ref.source), `track_script ${ref.name}: 'reverse' has no inventory field; imported without it`)
          return [trackScript(s, ref.weight, c)]
        })
        if (scripts.length > 0) v.trackScripts = scripts
        const ifaces = inst.trackInterfaces.map((t) => {
          if (t.weight !== 0 || t.reverse) c.warn(where(t.source), `track_interface ${t.name}: weight/reverse have no inventory field; imported as a plain tracked interface`)
          return t.name
        })
        if (ifaces.length > 0) v.trackInterfaces = ifaces
        const hooks = notifyHooks(inst)
        if (hooks) v.notify = hooks
        if (inst.smtpAlert) v.smtpAlert = true
        if (inst.garpMasterDelayMs !== cfg.globalDefs.vrrpGarpMasterDelayMs) v.garpMasterDelay = whole(inst.garpMasterDelayMs, c, where(inst.source), 'garp_master_delay')
        entry = {out: v, first: {d, i: inst}, raw: []}
        vips.set(inst.virtualRouterId, entry)
      } else {
        compareInstances(entry.first, {d, i: inst}, c)
      }
      ;(entry.out.priorities as Obj)[d.name] = inst.priority
      for (const line of raw) if (!entry.raw.includes(line)) entry.raw.push(line)
      if (inst.unicastPeers.length > 0) {
        const others = dirOut.filter((x) => x.name !== d.name).map((x) => String(x.address).split('/')[0])
        for (const p of inst.unicastPeers) {
          if (!others.includes(p.address)) c.warn(where(p.source), `unicast_peer ${p.address} is not one of the imported directors; kaops sends adverts only to the directors in the inventory (import that director too, or add it)`)
        }
      }
    }
    for (const g of cfg.vrrpSyncGroups) {
      if (syncGroups.has(g.name)) continue
      const o: Obj = {name: safeName(g.name, `SG_${syncGroups.size + 1}`)}
      const hooks = notifyHooks(g)
      if (hooks) o.notify = hooks
      if (g.smtpAlert) o.smtpAlert = true
      syncGroups.set(g.name, o)
      for (const m of g.instances) {
        const inst = cfg.vrrpInstances.find((i) => i.name === m)
        const v = inst && vips.get(inst.virtualRouterId)
        if (v) v.out.syncGroup = o.name
      }
      if (g.trackScripts.length + g.trackInterfaces.length + g.trackFiles.length > 0) c.warn(where(g.source), `vrrp_sync_group ${g.name}: group-level track_* has no inventory field; not imported`)
    }
    // vrrp_scripts that no instance tracks would otherwise vanish.
    for (const s of cfg.vrrpScripts) {
      if (!cfg.vrrpInstances.some((i) => i.trackScripts.some((r) => r.name === s.name)) && !cfg.vrrpSyncGroups.some((g) => g.trackScripts.some((r) => r.name === s.name))) {
        c.warn(where(s.source), `vrrp_script ${s.name} is tracked by no instance; carried over as raw lines of ${d.name}`)
        const n = nodeAt(d.src, s.source.file, s.source.line)
        if (n) rawOf(dirOut, d.name).push(...nodeLines(n))
      }
    }
  }
  for (const e of vips.values()) if (e.raw.length > 0) e.out.raw = e.raw

  // Virtual servers: keyed by address, port and protocol; tied to the VIP that holds the address.
  const services = new Map<string, Obj>()
  const realServers = new Map<string, Obj>()
  for (const d of directors) {
    for (const vs of d.src.config.virtualServers) {
      const node = nodeAt(d.src, vs.source.file, vs.source.line)
      const t = vs.target
      const vip = t.kind === 'address' ? [...vips.values()].find((e) => (e.out.addresses as Array<Obj | string>).some((a) => (typeof a === 'string' ? a : String(a.address)).split('/')[0] === t.address)) : undefined
      const unsupported = t.kind !== 'address' ? `a ${t.kind} virtual_server` : !vip ? `no VRRP instance holds ${t.address}` : vs.protocol === 'SCTP' ? 'protocol SCTP' : !SCHEDULERS.has(vs.lbAlgo) ? `lb_algo ${vs.lbAlgo}` : undefined
      if (unsupported) {
        c.warn(where(vs.source), `virtual_server: ${unsupported} has no inventory form; the whole block is carried over as raw lines of ${d.name}`)
        if (node) rawOf(dirOut, d.name).push(...nodeLines(node))
        continue
      }
      const key = `${(t as {address: string}).address}|${(t as {port: number}).port}|${vs.protocol}`
      const s = service(vs, String(vip!.out.name), node, new Collector(), realServers)
      const prev = services.get(key)
      if (!prev) {
        // Warnings only from the first director that has it, so a pair does not say everything twice.
        service(vs, String(vip!.out.name), node, c, new Map())
        services.set(key, s)
      } else if (JSON.stringify(prev) !== JSON.stringify(s)) {
        c.warn(where(vs.source), `virtual_server ${key.split('|').slice(0, 2).join(' ')} differs from the first director's; the first one is imported`)
      }
    }
  }
  const names = new Map<string, number>()
  for (const s of services.values()) {
    const n = String(s.name)
    const k = (names.get(n) ?? 0) + 1
    names.set(n, k)
    if (k > 1) s.name = `${n}-${k}`
  }

  // Top-level blocks with no inventory form go to the director's raw lines, whole.
  const handled = new Set(['global_defs', 'vrrp_instance', 'vrrp_sync_group', 'vrrp_script', 'virtual_server'])
  for (const d of directors) {
    for (const n of d.src.tree) {
      if (handled.has(n.keyword)) continue
      c.warn(where(n), `'${nodeHead(n)}' has no inventory form; carried over as raw lines of ${d.name}`)
      rawOf(dirOut, d.name).push(...nodeLines(n))
    }
  }

  inventory.directors = dirOut
  if (realServers.size > 0) inventory.realServers = [...realServers.values()]
  inventory.vips = [...vips.values()].map((e) => e.out)
  if (syncGroups.size > 0) inventory.syncGroups = [...syncGroups.values()]
  if (services.size > 0) inventory.services = [...services.values()]
  if (Object.keys(notifications).length > 0) inventory.notifications = {emails: [], ...notifications}
  if (Object.keys(keepalived).length > 0) inventory.keepalived = keepalived
  for (const {env, vip} of secretEnv) c.notes.push(`VIP ${vip}: export ${env}=<the auth_pass of its vrrp_instance> before plan/apply (the secret is not written into the inventory)`)
  if (realServers.size > 0) c.notes.push('real servers are imported with prepare: false (kaops leaves them as they are); set prepare: true to let kaops manage their sysctl and loopback VIP')
  return {inventory, warnings: c.warnings, notes: c.notes, secretEnv}
}

function rawOf(dirs: Obj[], name: string): string[] {
  const d = dirs.find((x) => x.name === name)!
  if (!d.raw) d.raw = []
  return d.raw as string[]
}

/** The same VRID on two directors should describe the same router; say where it does not. */
function compareInstances(a: {d: DirectorInfo; i: VrrpInstanceConfig}, b: {d: DirectorInfo; i: VrrpInstanceConfig}, c: Collector): void {
  const at = where(b.i.source)
  const addr = (i: VrrpInstanceConfig) => i.virtualIpAddresses.map((x) => `${x.address}/${x.prefixLength}`).sort().join(',')
  if (addr(a.i) !== addr(b.i)) c.warn(at, `vrrp_instance ${b.i.name} (VRID ${b.i.virtualRouterId}): virtual_ipaddress differs from ${a.d.name}'s; ${a.d.name}'s is imported`)
  if (a.i.advertIntervalMs !== b.i.advertIntervalMs) c.warn(at, `VRID ${b.i.virtualRouterId}: advert_int differs between ${a.d.name} and ${b.d.name}; ${a.d.name}'s is imported`)
  if (a.i.authentication?.password !== b.i.authentication?.password || a.i.authentication?.type !== b.i.authentication?.type) {
    c.warn(at, `VRID ${b.i.virtualRouterId}: authentication differs between ${a.d.name} and ${b.d.name} (the directors cannot agree today); one secret is used for both`)
  }
  if (a.i.nopreempt !== b.i.nopreempt) c.warn(at, `VRID ${b.i.virtualRouterId}: nopreempt is set on only one director; ${a.d.name}'s setting is imported`)
  if (a.i.name !== b.i.name) c.warn(at, `VRID ${b.i.virtualRouterId} is named ${a.i.name} on ${a.d.name} and ${b.i.name} on ${b.d.name}; imported as ${a.i.name}`)
  if (JSON.stringify(notifyHooks(a.i)) !== JSON.stringify(notifyHooks(b.i))) c.warn(at, `VRID ${b.i.virtualRouterId}: notify scripts differ between ${a.d.name} and ${b.d.name}; ${a.d.name}'s are imported`)
}
