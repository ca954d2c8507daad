import type {
  LbAlgo,
  LbKind,
  RealServerConfig,
  VirtualServerConfig,
  VirtualServerGroupConfig,
  VirtualServerGroupEntry,
  VirtualServerTarget,
} from '../../model/keepalived-config.js'
import type {DiagnosticSink} from './diagnostics.js'
import {runTable} from './keyword-table.js'
import {CHECKER_KEYWORDS, parseChecker} from './parse-checkers.js'
import type {ConfigNode} from './tree.js'
import {at, expectArgs, expectBlock, ipFamily, parseFlag, parseInteger, parseNotifyCommand, parsePort, parseTimerMs} from './values.js'

/** virtual_server_group and virtual_server (with sorry_server and real_server) blocks. */

const LB_ALGOS = new Set<LbAlgo>(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq'])
const LB_KINDS = new Set<LbKind>(['NAT', 'DR', 'TUN'])

/** `ADDR PORT`, `ADDR-END PORT` (range on the last octet/hextet) or `fwmark N`. */
export function parseVirtualServerGroup(sink: DiagnosticSink, node: ConfigNode): VirtualServerGroupConfig {
  const name = node.args[0]?.text ?? ''
  if (!name) sink.error(node, "'virtual_server_group' needs a name")
  const group: VirtualServerGroupConfig = {name, entries: [], source: at(node)}
  for (const child of expectBlock(sink, node)) {
    if (child.keyword === 'fwmark') {
      const mark = parseInteger(sink, child.args[0], child, 1, 4294967295)
      if (mark !== undefined) group.entries.push({kind: 'fwmark', fwmark: mark, source: at(child)})
      continue
    }
    const m = /^(.+?)(?:-([0-9a-fA-F]+))?$/.exec(child.keyword)!
    const family = ipFamily(m[1]!)
    if (!family) {
      sink.error(child, `virtual_server_group ${name}: '${child.keyword}' is not an address, a range (ADDR-END) or 'fwmark N'`)
      continue
    }
    const port = parsePort(sink, child.args[0], child)
    if (port === undefined) continue
    const entry: VirtualServerGroupEntry = {kind: 'address', address: m[1]!, family, port, source: at(child)}
    if (m[2] !== undefined) {
      const end = family === 4 ? Number(m[2]) : parseInt(m[2], 16)
      const last = family === 4 ? Number(m[1]!.split('.')[3]) : parseInt(m[1]!.split(':').pop() || '0', 16)
      if (!(family === 4 ? /^\d+$/.test(m[2]) && end <= 255 : end <= 0xffff) || end < last) {
        sink.error(child, `virtual_server_group ${name}: bad range end '${m[2]}' in '${child.keyword}'`)
        continue
      }
      entry.rangeEnd = end
    }
    group.entries.push(entry)
  }
  return group
}

function parseTarget(sink: DiagnosticSink, node: ConfigNode): VirtualServerTarget | undefined {
  const [first, second] = node.args
  if (!first) {
    sink.error(node, "'virtual_server' needs 'IP PORT', 'fwmark N' or 'group NAME'")
    return undefined
  }
  if (first.text === 'fwmark') {
    const mark = parseInteger(sink, second, node, 1, 4294967295)
    return mark === undefined ? undefined : {kind: 'fwmark', fwmark: mark}
  }
  if (first.text === 'group') {
    if (!second) {
      sink.error(node, "'virtual_server group' needs a group name")
      return undefined
    }
    return {kind: 'group', group: second.text}
  }
  const family = ipFamily(first.text)
  if (!family) {
    sink.error(first, `virtual_server: '${first.text}' is not an IP address`)
    return undefined
  }
  const port = parsePort(sink, second, node)
  return port === undefined ? undefined : {kind: 'address', address: first.text, family, port}
}

function targetLabel(t: VirtualServerTarget | undefined): string {
  if (!t) return 'virtual_server ?'
  if (t.kind === 'fwmark') return `virtual_server fwmark ${t.fwmark}`
  if (t.kind === 'group') return `virtual_server group ${t.group}`
  return `virtual_server ${t.address} ${t.port}`
}

export function parseVirtualServer(sink: DiagnosticSink, node: ConfigNode): VirtualServerConfig | undefined {
  const target = parseTarget(sink, node)
  const label = targetLabel(target)
  const vs: VirtualServerConfig = {
    target: target ?? {kind: 'fwmark', fwmark: 0},
    delayLoopMs: 60_000,
    lbAlgo: 'wlc',
    lbKind: 'NAT',
    // keepalived 2.2.7 defaults an unset protocol to UDP (and reports it).
    protocol: 'UDP',
    haSuspend: false,
    alpha: false,
    omega: false,
    quorum: 1,
    hysteresis: 0,
    inhibitOnFailure: false,
    realServers: [],
    source: at(node),
  }
  const given = new Set<string>()
  const realNodes: ConfigNode[] = []
  const kind = (n: ConfigNode): LbKind | undefined => {
    const k = n.args[0]?.text as LbKind | undefined
    if (k && LB_KINDS.has(k)) return k
    sink.error(n, `${label}: ${n.keyword} '${n.args[0]?.text ?? ''}' is not NAT, DR or TUN`)
    return undefined
  }
  runTable(sink, expectBlock(sink, node), {
    block: label,
    ignored: new Set(['persistence_engine', 'snmp_name', 'ops', 'mh-port', 'mh-fallback', 'sh-port', 'sh-fallback', 'lvs_sched']),
    handlers: {
      delay_loop: (n) => {
        const v = parseTimerMs(sink, n.args[0], n, {minMs: 1})
        if (v !== undefined) vs.delayLoopMs = v
      },
      lb_algo: (n) => {
        const a = n.args[0]?.text as LbAlgo | undefined
        if (a && LB_ALGOS.has(a)) {
          vs.lbAlgo = a
          given.add('lb_algo')
        } else sink.error(n, `${label}: lb_algo '${n.args[0]?.text ?? ''}' is not one of ${[...LB_ALGOS].join(' ')}`)
      },
      lb_kind: (n) => {
        const k = kind(n)
        if (k) {
          vs.lbKind = k
          given.add('lb_kind')
        }
      },
      lvs_method: (n) => {
        const k = kind(n)
        if (k) {
          vs.lbKind = k
          given.add('lb_kind')
        }
      },
      persistence_timeout: (n) => {
        // A bare persistence_timeout means keepalived's default of 6 minutes.
        const v = n.args[0] ? parseInteger(sink, n.args[0], n, 1, 2678400) : 360
        if (v !== undefined) vs.persistenceTimeoutSec = v
      },
      persistence_granularity: (n) => {
        if (!expectArgs(sink, n, 1, 1)) return
        const g = n.args[0]!.text
        if (!ipFamily(g) && !/^\d{1,3}$/.test(g)) sink.error(n.args[0]!, `${label}: persistence_granularity '${g}' is not a netmask`)
        else vs.persistenceGranularity = g
      },
      protocol: (n) => {
        const p = n.args[0]?.text.toUpperCase()
        if (p === 'TCP' || p === 'UDP' || p === 'SCTP') {
          vs.protocol = p
          given.add('protocol')
          if (vs.target.kind === 'fwmark') {
            // keepalived 2.2 reports this too (and its -t fails); the protocol would be ignored.
            sink.error(n, `${label}: 'protocol' means nothing for a fwmark service (the mark selects the packets); remove it`)
          }
        } else sink.error(n, `${label}: protocol '${n.args[0]?.text ?? ''}' is not TCP, UDP or SCTP`)
      },
      ha_suspend: () => {
        vs.haSuspend = true
      },
      virtualhost: (n) => {
        if (expectArgs(sink, n, 1, 1)) vs.virtualhost = n.args[0]!.text
      },
      alpha: (n) => {
        vs.alpha = parseFlag(sink, n)
      },
      omega: (n) => {
        vs.omega = parseFlag(sink, n)
      },
      quorum: (n) => {
        const v = parseInteger(sink, n.args[0], n, 1, 2147483647)
        if (v !== undefined) vs.quorum = v
      },
      hysteresis: (n) => {
        const v = parseInteger(sink, n.args[0], n, 0, 2147483647)
        if (v !== undefined) vs.hysteresis = v
      },
      quorum_up: (n) => {
        const c = parseNotifyCommand(sink, n)
        if (c) vs.quorumUp = c
      },
      quorum_down: (n) => {
        const c = parseNotifyCommand(sink, n)
        if (c) vs.quorumDown = c
      },
      sorry_server: (n) => {
        const a = n.args[0]?.text
        const family = a ? ipFamily(a) : undefined
        if (!a || !family) {
          sink.error(n, `${label}: sorry_server needs an IP address`)
          return
        }
        const port = n.args[1] ? parsePort(sink, n.args[1], n) : undefined
        vs.sorryServer = {...vs.sorryServer, address: a, family, inhibit: vs.sorryServer?.inhibit ?? false, ...(port === undefined ? {} : {port})}
      },
      sorry_server_inhibit: () => {
        vs.sorryServer = vs.sorryServer ? {...vs.sorryServer, inhibit: true} : {address: '', family: 4, inhibit: true}
      },
      sorry_server_lvs_method: (n) => {
        const k = kind(n)
        if (k) vs.sorryServer = vs.sorryServer ? {...vs.sorryServer, lbKind: k} : {address: '', family: 4, inhibit: false, lbKind: k}
      },
      smtp_alert: (n) => {
        vs.smtpAlert = parseFlag(sink, n)
      },
      inhibit_on_failure: (n) => {
        vs.inhibitOnFailure = parseFlag(sink, n)
      },
      connect_timeout: (n) => {
        const v = parseTimerMs(sink, n.args[0], n, {minMs: 1})
        if (v !== undefined) vs.connectTimeoutMs = v
      },
      retry: (n) => {
        const v = parseInteger(sink, n.args[0], n, 0, 2147483647)
        if (v !== undefined) vs.retry = v
      },
      delay_before_retry: (n) => {
        const v = parseTimerMs(sink, n.args[0], n)
        if (v !== undefined) vs.delayBeforeRetryMs = v
      },
      warmup: (n) => {
        const v = parseTimerMs(sink, n.args[0], n)
        if (v !== undefined) vs.warmupMs = v
      },
      ip_family: (n) => {
        const f = n.args[0]?.text
        if (f === 'inet') vs.ipFamily = 4
        else if (f === 'inet6') vs.ipFamily = 6
        else sink.error(n, `${label}: ip_family '${f ?? ''}' is not inet or inet6`)
      },
      // Real servers are parsed after the block so they inherit settings written below them.
      real_server: (n) => {
        realNodes.push(n)
      },
    },
  }, vs)
  if (vs.sorryServer && vs.sorryServer.address === '') {
    sink.error(node, `${label}: sorry_server_inhibit/sorry_server_lvs_method without a sorry_server`)
    delete vs.sorryServer
  }
  for (const n of realNodes) {
    const rs = parseRealServer(sink, n, vs, label)
    if (rs) vs.realServers.push(rs)
  }
  // keepalived 2.2's -t reports each of these defaults, so kaopsd -t does as well.
  if (!given.has('lb_algo')) sink.error(node, `${label}: no lb_algo set (keepalived would use wlc); write it out`)
  if (!given.has('lb_kind')) sink.error(node, `${label}: no lb_kind set (keepalived would use NAT); write it out`)
  if (!given.has('protocol') && vs.target.kind !== 'fwmark') {
    sink.error(node, `${label}: no protocol set (keepalived 2.2 would use UDP); write TCP, UDP or SCTP`)
  }
  return target ? vs : undefined
}

function parseRealServer(sink: DiagnosticSink, node: ConfigNode, vs: VirtualServerConfig, vsLabel: string): RealServerConfig | undefined {
  const a = node.args[0]?.text
  const family = a ? ipFamily(a) : undefined
  if (!a || !family) {
    sink.error(node, `${vsLabel}: real_server needs an IP address`)
    return undefined
  }
  let port: number | undefined
  if (node.args[1]) port = parsePort(sink, node.args[1], node)
  else if (vs.target.kind === 'address') port = vs.target.port
  const rs: RealServerConfig = {
    address: a,
    family,
    ...(port === undefined ? {} : {port}),
    weight: 1,
    inhibitOnFailure: vs.inhibitOnFailure,
    checkers: [],
    source: at(node),
  }
  const label = `real_server ${a}${port === undefined ? '' : ' ' + port}`
  const checkerNodes: ConfigNode[] = []
  runTable(sink, expectBlock(sink, node), {
    block: label,
    ignored: new Set(['snmp_name', 'FILE_CHECK', 'BFD_CHECK']),
    handlers: {
      weight: (n) => {
        const v = parseInteger(sink, n.args[0], n, 0, 65535)
        if (v !== undefined) rs.weight = v
      },
      lvs_method: (n) => {
        const k = n.args[0]?.text as LbKind | undefined
        if (k && LB_KINDS.has(k)) rs.lbKind = k
        else sink.error(n, `${label}: lvs_method '${n.args[0]?.text ?? ''}' is not NAT, DR or TUN`)
      },
      inhibit_on_failure: (n) => {
        rs.inhibitOnFailure = parseFlag(sink, n)
      },
      notify_up: (n) => {
        const c = parseNotifyCommand(sink, n)
        if (c) rs.notifyUp = c
      },
      notify_down: (n) => {
        const c = parseNotifyCommand(sink, n)
        if (c) rs.notifyDown = c
      },
      smtp_alert: (n) => {
        rs.smtpAlert = parseFlag(sink, n)
      },
      virtualhost: (n) => {
        if (expectArgs(sink, n, 1, 1)) rs.virtualhost = n.args[0]!.text
      },
      alpha: (n) => {
        rs.alpha = parseFlag(sink, n)
      },
      connect_timeout: (n) => {
        const v = parseTimerMs(sink, n.args[0], n, {minMs: 1})
        if (v !== undefined) rs.connectTimeoutMs = v
      },
      retry: (n) => {
        const v = parseInteger(sink, n.args[0], n, 0, 2147483647)
        if (v !== undefined) rs.retry = v
      },
      delay_before_retry: (n) => {
        const v = parseTimerMs(sink, n.args[0], n)
        if (v !== undefined) rs.delayBeforeRetryMs = v
      },
      warmup: (n) => {
        const v = parseTimerMs(sink, n.args[0], n)
        if (v !== undefined) rs.warmupMs = v
      },
      delay_loop: (n) => {
        const v = parseTimerMs(sink, n.args[0], n, {minMs: 1})
        if (v !== undefined) rs.delayLoopMs = v
      },
      uthreshold: (n) => {
        const v = parseInteger(sink, n.args[0], n, 0, 2147483647)
        if (v !== undefined) rs.uthreshold = v
      },
      lthreshold: (n) => {
        const v = parseInteger(sink, n.args[0], n, 0, 2147483647)
        if (v !== undefined) rs.lthreshold = v
      },
    },
    fallback: (n) => {
      if (CHECKER_KEYWORDS.has(n.keyword)) checkerNodes.push(n)
      else sink.error(n, `unknown keyword '${n.keyword}' in ${label}`)
    },
  }, rs)
  const defaults = {
    delayLoopMs: rs.delayLoopMs ?? vs.delayLoopMs,
    ...pick('connectTimeoutMs', rs.connectTimeoutMs ?? vs.connectTimeoutMs),
    ...pick('retry', rs.retry ?? vs.retry),
    ...pick('delayBeforeRetryMs', rs.delayBeforeRetryMs ?? vs.delayBeforeRetryMs),
    ...pick('warmupMs', rs.warmupMs ?? vs.warmupMs),
  }
  for (const n of checkerNodes) {
    const c = parseChecker(sink, n, defaults)
    if (c) rs.checkers.push(c)
  }
  if (port === undefined && vs.target.kind !== 'fwmark' && vs.target.kind !== 'group') {
    sink.error(node, `${label}: needs a port`)
  }
  return rs
}

function pick<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({[key]: value} as Record<K, number>)
}
