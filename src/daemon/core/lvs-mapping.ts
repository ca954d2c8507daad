import ipaddr from 'ipaddr.js'
import type {
  CheckerConfig as ModelChecker,
  Diagnostic,
  KeepalivedConfig,
  RealServerConfig as ModelRealServer,
  ScriptCommand,
  SourceLocation,
  VirtualServerConfig as ModelVirtualServer,
} from '../../model/keepalived-config.js'
import {compileBodyRegex} from '../check/body-regex.js'
import type {CheckedVirtualServer, RealServerCheck} from '../check/check-supervisor.js'
import type {CheckerConfig, ConnectOptions, UrlCheck} from '../check/types.js'
import {desiredService, initialState, realServerId, type VirtualServerConfig} from '../check/virtual-server-state.js'
import {nftablesProblems} from '../lb/nft-support.js'
import {chooseBackend} from '../lb/select-backend.js'
import type {IpFamily, ServiceKey, VirtualService} from '../lb/types.js'

/**
 * The keepalived.conf model's virtual_server blocks as the checker and data-plane types want
 * them (pure). The checkers and the state machine name scripts by a plain string; `scripts`
 * maps each such string back to the configured command, so the daemon runs it through its
 * script runner (user, clean environment, script security) rather than a shell.
 */

export interface LvsMappingOptions {
  /** SMTP_CHECK's HELO name when helo_name is absent (keepalived: the local host name). */
  heloName: string
  /**
   * DR mode with nftables forwards out of the interface the real servers are reached by; the
   * caller looks it up (a route lookup is I/O) and answers per real-server address.
   */
  drInterface?: (realServerAddress: string) => string | undefined
}

export interface MappedVirtualServer {
  checked: CheckedVirtualServer
  /** Where the virtual_server block is, for messages. */
  source: SourceLocation
}

export interface LvsMapping {
  servers: MappedVirtualServer[]
  /** Script name (as in notify_up, quorum_up and misc_path of the mapped types) -> the configured command. */
  scripts: Map<string, ScriptCommand>
  /** What the mapping could not carry over faithfully (warnings) or at all (errors). */
  diagnostics: Diagnostic[]
}

/** UDP_CHECK without a payload: keepalived sends random bytes; a fixed, recognisable one serves as well. */
const DEFAULT_UDP_PAYLOAD = Uint8Array.from(Buffer.from('kaopsd-udp-check\n'))

export function mapVirtualServers(config: KeepalivedConfig, opts: LvsMappingOptions): LvsMapping {
  const scripts = new Map<string, ScriptCommand>()
  const diagnostics: Diagnostic[] = []
  const warn = (at: SourceLocation, message: string): void => {
    diagnostics.push({severity: 'warning', file: at.file, line: at.line, message})
  }
  const error = (at: SourceLocation, message: string): void => {
    diagnostics.push({severity: 'error', file: at.file, line: at.line, message})
  }
  const script = (cmd: ScriptCommand | undefined): string | undefined => {
    if (!cmd) return undefined
    // The first definition of a command line wins; the same line twice runs the same way.
    if (!scripts.has(cmd.command)) scripts.set(cmd.command, cmd)
    return cmd.command
  }

  const servers: MappedVirtualServer[] = []
  for (const vs of config.virtualServers) {
    const keys = serviceKeys(config, vs, error)
    if (keys.length === 0) continue
    const first = keys[0]!
    const defaultPort = first.kind === 'address' ? first.port : 0
    const realServers = vs.realServers.map((rs) => {
      const r: VirtualServerConfig['realServers'][number] = {
        address: rs.address,
        port: rs.port ?? defaultPort,
        weight: rs.weight,
        inhibitOnFailure: rs.inhibitOnFailure || vs.inhibitOnFailure,
      }
      if (rs.alpha !== undefined) r.alpha = rs.alpha
      const up = script(rs.notifyUp)
      const down = script(rs.notifyDown)
      if (up) r.notifyUp = up
      if (down) r.notifyDown = down
      return r
    })
    const cfg: VirtualServerConfig = {
      key: first,
      algo: vs.lbAlgo,
      kind: vs.lbKind,
      alpha: vs.alpha,
      omega: vs.omega,
      quorum: vs.quorum,
      hysteresis: vs.hysteresis,
      realServers,
    }
    if (vs.persistenceTimeoutSec) cfg.persistenceTimeoutS = vs.persistenceTimeoutSec
    if (vs.persistenceGranularity !== undefined) {
      const prefix = granularityPrefix(vs.persistenceGranularity)
      if (prefix === undefined) error(vs.source, `persistence_granularity '${vs.persistenceGranularity}' is neither a netmask nor a prefix length`)
      else cfg.persistencePrefix = prefix
    }
    const qUp = script(vs.quorumUp)
    const qDown = script(vs.quorumDown)
    if (qUp) cfg.quorumUp = qUp
    if (qDown) cfg.quorumDown = qDown
    if (vs.sorryServer) {
      cfg.sorryServer = {address: vs.sorryServer.address, port: vs.sorryServer.port ?? defaultPort, inhibit: vs.sorryServer.inhibit}
    }
    if (vs.lbKind === 'DR' && opts.drInterface) {
      const dev = vs.realServers.map((rs) => opts.drInterface!(rs.address)).find((d) => d !== undefined)
      if (dev) cfg.interface = dev
    }

    const checks: CheckedVirtualServer['checks'] = {}
    for (const [i, rs] of vs.realServers.entries()) {
      const list = rs.checkers.flatMap((c) => mapChecker(c, vs, rs, opts, script, warn))
      if (list.length > 0) checks[realServerId(realServers[i]!)] = list
    }
    const checked: CheckedVirtualServer = {config: cfg, checks}
    if (vs.target.kind === 'group') {
      checked.group = vs.target.group
      checked.keys = keys
    }
    if (vs.haSuspend) {
      const addresses = [...new Set(keys.flatMap((k) => (k.kind === 'address' ? [k.address] : [])))]
      // A fwmark service has no address of its own to wait for.
      if (addresses.length === 0) warn(vs.source, 'ha_suspend: a fwmark service has no address to wait for; its checkers always run')
      else checked.suspendWithout = addresses
    }
    servers.push({checked, source: vs.source})
  }
  return {servers, scripts, diagnostics}
}

/**
 * `kaopsd -t`'s data-plane checks: when the nftables backend will program this configuration
 * (lvs_backend nftables, or auto on a kernel without IPVS), what it cannot express is an
 * error naming the virtual_server's file:line, never a silent fallback at run time.
 */
export function lvsConfigDiagnostics(config: KeepalivedConfig, kernelHasIpvs: boolean): Diagnostic[] {
  if (config.virtualServers.length === 0) return []
  // The DR interface is looked up from the routing table when the daemon starts; here any
  // name stands for it, so only what no interface could fix is reported.
  const mapped = mapVirtualServers(config, {heloName: 'localhost', drInterface: () => '(route to the real servers)'})
  const out = [...mapped.diagnostics]
  const choice = chooseBackend(config.globalDefs.lvsBackend, kernelHasIpvs)
  if (choice.name !== 'nftables') return out
  for (const m of mapped.servers) {
    for (const p of new Set(nftablesProblems(configuredServices(m.checked)))) {
      out.push({severity: 'error', file: m.source.file, line: m.source.line, message: `${p} (${choice.reason})`})
    }
  }
  return out
}

/**
 * What a virtual_server can ever ask of the data plane, for checking whether a backend can
 * express it: each of its keys with every configured real server (and the sorry server) as a
 * destination, whatever their health.
 */
export function configuredServices(checked: CheckedVirtualServer): VirtualService[] {
  const cfg = checked.config
  const d = desiredService(cfg, initialState(cfg))
  const destinations = [...cfg.realServers, ...(cfg.sorryServer ? [cfg.sorryServer] : [])].map((r) => ({address: r.address, port: r.port, weight: 1}))
  return (checked.keys ?? [cfg.key]).map((key) => ({...d, key, destinations}))
}

function familyOf(f: 4 | 6 | undefined): IpFamily {
  return f === 6 ? 'ipv6' : 'ipv4'
}

function serviceKeys(config: KeepalivedConfig, vs: ModelVirtualServer, error: (at: SourceLocation, m: string) => void): ServiceKey[] {
  const t = vs.target
  const fwFamily = familyOf(vs.ipFamily ?? vs.realServers[0]?.family)
  if (t.kind === 'address') return [{kind: 'address', family: familyOf(t.family), address: t.address, port: t.port, protocol: vs.protocol}]
  if (t.kind === 'fwmark') return [{kind: 'fwmark', family: fwFamily, mark: t.fwmark}]
  const group = config.virtualServerGroups.find((g) => g.name === t.group)
  if (!group) {
    error(vs.source, `virtual_server group ${t.group}: no virtual_server_group of that name`)
    return []
  }
  const keys: ServiceKey[] = []
  for (const e of group.entries) {
    if (e.kind === 'fwmark') {
      keys.push({kind: 'fwmark', family: fwFamily, mark: e.fwmark})
      continue
    }
    for (const address of expandRange(e.address, e.rangeEnd)) {
      keys.push({kind: 'address', family: familyOf(e.family), address, port: e.port, protocol: vs.protocol})
    }
  }
  if (keys.length === 0) error(vs.source, `virtual_server group ${t.group}: the group has no entries`)
  return keys
}

/** `198.18.0.3-10`: the last octet (IPv4) or hextet (IPv6) runs from the written value to rangeEnd. */
export function expandRange(address: string, rangeEnd: number | undefined): string[] {
  if (rangeEnd === undefined) return [address]
  const parsed = ipaddr.parse(address)
  const out: string[] = []
  if (parsed.kind() === 'ipv4') {
    const o = (parsed as ipaddr.IPv4).octets.slice()
    for (let v = o[3]!; v <= rangeEnd; v++) out.push([o[0], o[1], o[2], v].join('.'))
  } else {
    const parts = (parsed as ipaddr.IPv6).parts.slice()
    for (let v = parts[7]!; v <= rangeEnd; v++) {
      parts[7] = v
      out.push(new ipaddr.IPv6(parts).toString())
    }
  }
  return out
}

/** persistence_granularity: a netmask (255.255.255.0) or, for IPv6, a prefix length. */
export function granularityPrefix(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text)
    return n <= 128 ? n : undefined
  }
  try {
    return ipaddr.IPv4.parse(text).prefixLengthFromSubnetMask() ?? undefined
  } catch {
    return undefined
  }
}

function connectOptions(c: {connectIp?: string; connectPort?: number; bindTo?: string; bindPort?: number; connectTimeoutMs: number}): ConnectOptions {
  const o: ConnectOptions = {connectTimeoutMs: c.connectTimeoutMs}
  if (c.connectIp !== undefined) o.connectIp = c.connectIp
  if (c.connectPort !== undefined) o.connectPort = c.connectPort
  if (c.bindTo !== undefined) o.bindTo = c.bindTo
  if (c.bindPort !== undefined) o.bindPort = c.bindPort
  return o
}

function hexBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '')
  return Uint8Array.from(Buffer.from(clean.length % 2 ? `0${clean}` : clean, 'hex'))
}

function mapChecker(
  c: ModelChecker,
  vs: ModelVirtualServer,
  rs: ModelRealServer,
  opts: LvsMappingOptions,
  script: (cmd: ScriptCommand | undefined) => string | undefined,
  warn: (at: SourceLocation, m: string) => void,
): RealServerCheck[] {
  const delayLoopMs = c.delayLoopMs ?? rs.delayLoopMs ?? vs.delayLoopMs
  const schedule = {
    delayLoopMs,
    retry: c.retry,
    delayBeforeRetryMs: c.delayBeforeRetryMs,
    // The model leaves warmup undefined for "keepalived's default", which is delay_loop.
    warmupMs: c.warmupMs ?? delayLoopMs,
    alpha: c.alpha ?? rs.alpha ?? vs.alpha,
  }
  const one = (checker: CheckerConfig): RealServerCheck[] => [{checker, schedule}]
  switch (c.type) {
    case 'TCP_CHECK':
      return one({type: 'TCP_CHECK', ...connectOptions(c)})
    case 'PING_CHECK':
      return one({type: 'PING_CHECK', ...connectOptions(c)})
    case 'HTTP_GET':
    case 'SSL_GET': {
      const urls = c.urls.map((u) => {
        const url: UrlCheck = {path: u.path}
        if (u.digest) url.digest = u.digest
        if (u.statusCodes.length > 0) url.statusCodes = u.statusCodes.map(([from, to]) => ({from, to}))
        if (u.virtualhost) url.virtualhost = u.virtualhost
        if (u.regex !== undefined) {
          const r = compileBodyRegex(u.regex, u.regexOptions ?? [], {noMatch: u.regexNoMatch, minOffset: u.regexMinOffset, maxOffset: u.regexMaxOffset})
          // The parser rejects a pattern that does not compile, so a loaded config never gets here.
          if ('error' in r) warn(u.source, `${c.type} url ${u.path}: ${r.error}; the regex is not checked`)
          else url.regex = r
        }
        return url
      })
      const vh = c.virtualhost ?? rs.virtualhost ?? vs.virtualhost
      return one({type: c.type, ...connectOptions(c), urls, ...(vh ? {virtualhost: vh} : {})})
    }
    case 'SMTP_CHECK': {
      const heloName = c.heloName ?? opts.heloName
      // Legacy host { } blocks: each is checked, all must pass; without them the real server is.
      if (c.hosts.length === 0) return one({type: 'SMTP_CHECK', ...connectOptions(c), heloName})
      return c.hosts.map((h) => ({
        checker: {type: 'SMTP_CHECK', ...connectOptions({...c, ...h, connectTimeoutMs: h.connectTimeoutMs ?? c.connectTimeoutMs}), heloName},
        schedule,
      }))
    }
    case 'DNS_CHECK':
      return one({type: 'DNS_CHECK', ...connectOptions(c), queryType: c.queryType, name: c.name})
    case 'UDP_CHECK': {
      const o: CheckerConfig = {
        type: 'UDP_CHECK',
        ...connectOptions(c),
        payload: c.payload ? hexBytes(c.payload) : DEFAULT_UDP_PAYLOAD,
        requireReply: c.requireReply !== undefined,
      }
      if (c.requireReply) {
        if (/x/i.test(c.requireReply)) warn(c.source, `UDP_CHECK require_reply '${c.requireReply}': don't-care nibbles are not matched by kaopsd; any reply is accepted`)
        else o.expectedReply = hexBytes(c.requireReply)
      }
      if (c.minReplyLength !== 0 || c.maxReplyLength !== 255) warn(c.source, 'UDP_CHECK min_reply_length/max_reply_length are not checked by kaopsd')
      return one(o)
    }
    case 'MISC_CHECK': {
      if (!c.miscPath) return []
      const cmd: ScriptCommand = c.user ? {...c.miscPath, user: c.user} : c.miscPath
      return one({type: 'MISC_CHECK', miscPath: script(cmd)!, miscTimeoutMs: c.miscTimeoutMs ?? delayLoopMs, dynamic: c.miscDynamic})
    }
  }
}
