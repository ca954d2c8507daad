import type {
  GlobalDefs,
  TrackInterfaceConfig,
  TrackRef,
  VrrpInstanceConfig,
  VrrpScriptConfig,
  VrrpSyncGroupConfig,
  VrrpTrackFileConfig,
} from '../../model/keepalived-config.js'
import type {DiagnosticSink} from './diagnostics.js'
import {runTable, type Handler, type KeywordTable} from './keyword-table.js'
import {parseIpAddressLine, parseRouteLine, parseRuleLine} from './parse-addresses.js'
import type {ConfigNode} from './tree.js'
import {
  at,
  expectArgs,
  expectBlock,
  ipFamily,
  parseAddress,
  parseFlag,
  parseInteger,
  parseNotifyCommand,
  parseTimerMs,
  parseUser,
  parseWeightArgs,
  parseWholeLineCommand,
} from './values.js'

/** vrrp_script, vrrp_track_file, vrrp_sync_group and vrrp_instance blocks. */

function blockName(sink: DiagnosticSink, node: ConfigNode): string {
  const name = node.args[0]?.text
  if (!name) sink.error(node, `'${node.keyword}' needs a name`)
  if (node.args.length > 1) sink.error(node.args[1]!, `'${node.keyword}': unexpected '${node.args[1]!.text}' after the name`)
  return name ?? ''
}

export function parseVrrpScript(sink: DiagnosticSink, node: ConfigNode): VrrpScriptConfig {
  const s: VrrpScriptConfig = {
    name: blockName(sink, node),
    intervalMs: 1000,
    timeoutMs: 0,
    weight: 0,
    weightReverse: false,
    rise: 1,
    fall: 1,
    initFail: false,
    source: at(node),
  }
  let timeoutGiven = false
  runTable(sink, expectBlock(sink, node), {
    block: `vrrp_script ${s.name}`,
    handlers: {
      script: (n) => {
        const c = parseWholeLineCommand(sink, n)
        if (c) s.script = c
      },
      interval: (n) => {
        const v = parseTimerMs(sink, n.args[0], n, {minMs: 1})
        if (v !== undefined) s.intervalMs = v
      },
      timeout: (n) => {
        const v = parseTimerMs(sink, n.args[0], n, {minMs: 1})
        if (v !== undefined) {
          s.timeoutMs = v
          timeoutGiven = true
        }
      },
      weight: (n) => {
        const v = parseInteger(sink, n.args[0], n, -253, 253)
        if (v !== undefined) s.weight = v
        if (n.args[1]?.text === 'reverse') s.weightReverse = true
        else if (n.args[1]) sink.error(n.args[1], `'weight': unexpected '${n.args[1].text}' (only 'reverse' may follow)`)
      },
      rise: (n) => {
        const v = parseInteger(sink, n.args[0], n, 1, 2147483647)
        if (v !== undefined) s.rise = v
      },
      fall: (n) => {
        const v = parseInteger(sink, n.args[0], n, 1, 2147483647)
        if (v !== undefined) s.fall = v
      },
      user: (n) => {
        const u = parseUser(sink, n)
        if (u) s.user = u
      },
      init_fail: () => {
        s.initFail = true
      },
    },
  }, s)
  // keepalived: an unset timeout is the interval.
  if (!timeoutGiven) s.timeoutMs = s.intervalMs
  if (!s.script) sink.error(node, `vrrp_script ${s.name} has no 'script'`)
  return s
}

export function parseVrrpTrackFile(sink: DiagnosticSink, node: ConfigNode): VrrpTrackFileConfig {
  const t: VrrpTrackFileConfig = {name: blockName(sink, node), file: '', weight: 1, weightReverse: false, source: at(node)}
  runTable(sink, expectBlock(sink, node), {
    block: `vrrp_track_file ${t.name}`,
    handlers: {
      file: (n) => {
        if (expectArgs(sink, n, 1, 1)) t.file = n.args[0]!.text
      },
      weight: (n) => {
        const v = parseInteger(sink, n.args[0], n, -254, 254)
        if (v !== undefined) t.weight = v
        if (n.args[1]?.text === 'reverse') t.weightReverse = true
      },
      init_file: (n) => {
        const value = n.args[0] && /^-?\d+$/.test(n.args[0].text) ? Number(n.args[0].text) : 0
        t.initFile = {value, overwrite: n.args.some((a) => a.text === 'overwrite')}
      },
    },
  }, t)
  if (t.file === '') sink.error(node, `vrrp_track_file ${t.name} has no 'file'`)
  return t
}

function trackRefs(sink: DiagnosticSink, node: ConfigNode, into: TrackRef[], min: number, max: number): void {
  for (const child of expectBlock(sink, node)) {
    const w = parseWeightArgs(sink, child, child.args, min, max)
    into.push({name: child.keyword, ...w, source: at(child)})
  }
}

function trackInterfaces(sink: DiagnosticSink, node: ConfigNode, into: TrackInterfaceConfig[]): void {
  for (const child of expectBlock(sink, node)) {
    const w = parseWeightArgs(sink, child, child.args, -254, 254)
    into.push({name: child.keyword, weight: w.weight ?? 0, reverse: w.reverse, source: at(child)})
  }
}

/** Notify keywords shared by instances and sync groups. */
function notifyHandlers<T extends VrrpInstanceConfig | VrrpSyncGroupConfig>(sink: DiagnosticSink): Record<string, Handler<T>> {
  const script = (key: 'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notify' | 'notifyMasterRxLowerPri'): Handler<T> =>
    (n, target) => {
      const c = parseNotifyCommand(sink, n)
      if (c) target[key] = c
    }
  return {
    notify_master: script('notifyMaster'),
    notify_backup: script('notifyBackup'),
    notify_fault: script('notifyFault'),
    notify_stop: script('notifyStop'),
    notify: script('notify'),
    notify_master_rx_lower_pri: script('notifyMasterRxLowerPri'),
    smtp_alert: (n, target) => {
      target.smtpAlert = parseFlag(sink, n)
    },
    notify_fifo: (n, target) => {
      if (expectArgs(sink, n, 1, 3)) target.notifyFifo = {...target.notifyFifo, path: n.args[0]!.text}
    },
    notify_fifo_script: (n, target) => {
      const c = parseNotifyCommand(sink, n)
      if (c) target.notifyFifo = {path: target.notifyFifo?.path ?? '', ...target.notifyFifo, script: c}
    },
  }
}

export function parseVrrpSyncGroup(sink: DiagnosticSink, node: ConfigNode): VrrpSyncGroupConfig {
  const g: VrrpSyncGroupConfig = {
    name: blockName(sink, node),
    instances: [],
    trackScripts: [],
    trackFiles: [],
    trackInterfaces: [],
    source: at(node),
  }
  runTable(sink, expectBlock(sink, node), {
    block: `vrrp_sync_group ${g.name}`,
    ignored: new Set(['global_tracking', 'sync_group_tracking_weight', 'track_process', 'track_bfd']),
    handlers: {
      group: (n) => {
        for (const child of expectBlock(sink, n)) g.instances.push(child.keyword, ...child.args.map((t) => t.text))
      },
      track_script: (n) => trackRefs(sink, n, g.trackScripts, -254, 254),
      track_file: (n) => trackRefs(sink, n, g.trackFiles, -254, 254),
      track_interface: (n) => trackInterfaces(sink, n, g.trackInterfaces),
      ...notifyHandlers<VrrpSyncGroupConfig>(sink),
    },
  }, g)
  if (g.instances.length === 0) sink.error(node, `vrrp_sync_group ${g.name} has no instances (list them in 'group { }')`)
  return g
}

const INSTANCE_IGNORED = new Set([
  'vmac_xmit_base_disabled', 'native_ipv6', 'kernel_rx_buf_size', 'track_process', 'track_bfd',
  'garp_lower_prio_delay', 'garp_lower_prio_repeat', 'lower_prio_no_advert', 'higher_prio_send_advert',
  'down_timer_adverts', 'linkbeat_use_polling', 'no_accept', 'unicast_ttl', 'unicast_fault_no_peer',
  'old_unicast_checksum', 'mcast_dst_ip',
])

export function parseVrrpInstance(sink: DiagnosticSink, node: ConfigNode, globals: GlobalDefs): VrrpInstanceConfig {
  const v: VrrpInstanceConfig = {
    name: blockName(sink, node),
    state: 'BACKUP',
    stateGiven: false,
    vmacXmitBase: false,
    dontTrackPrimary: false,
    trackInterfaces: [],
    trackScripts: [],
    trackFiles: [],
    unicastPeers: [],
    garpMasterDelayMs: globals.vrrpGarpMasterDelayMs,
    garpMasterRepeat: globals.vrrpGarpMasterRepeat,
    garpMasterRefreshMs: globals.vrrpGarpMasterRefreshMs,
    garpMasterRefreshRepeat: globals.vrrpGarpMasterRefreshRepeat,
    virtualRouterId: 0,
    priority: 100,
    advertIntervalMs: 1000,
    version: globals.vrrpVersion,
    virtualIpAddresses: [],
    virtualIpAddressesExcluded: [],
    virtualRoutes: [],
    virtualRules: [],
    family: 4,
    nopreempt: false,
    preemptDelayMs: 0,
    debug: 0,
    source: at(node),
  }
  const label = `vrrp_instance ${v.name}`
  let versionGiven = false
  let advertNode: ConfigNode | undefined
  const table: KeywordTable<VrrpInstanceConfig> = {
    block: label,
    ignored: INSTANCE_IGNORED,
    handlers: {
      state: (n) => {
        const s = n.args[0]?.text
        if (s === 'MASTER' || s === 'BACKUP') {
          v.state = s
          v.stateGiven = true
        } else sink.error(n, `${label}: unknown state '${s ?? ''}' (MASTER or BACKUP)`)
      },
      interface: (n) => {
        if (expectArgs(sink, n, 1, 1)) v.interface = n.args[0]!.text
      },
      use_vmac: (n) => {
        v.useVmac = n.args[0] ? {name: n.args[0].text} : {}
      },
      vmac_xmit_base: () => {
        v.vmacXmitBase = true
      },
      dont_track_primary: () => {
        v.dontTrackPrimary = true
      },
      track_interface: (n) => trackInterfaces(sink, n, v.trackInterfaces),
      track_script: (n) => trackRefs(sink, n, v.trackScripts, -253, 253),
      track_file: (n) => trackRefs(sink, n, v.trackFiles, -254, 254),
      mcast_src_ip: (n) => {
        const a = parseAddress(sink, n.args[0], n)
        if (a) v.mcastSrcIp = a.address
      },
      unicast_src_ip: (n) => {
        const a = parseAddress(sink, n.args[0], n)
        if (a) v.unicastSrcIp = a.address
      },
      unicast_peer: (n) => {
        for (const child of expectBlock(sink, n)) {
          if (!ipFamily(child.keyword)) {
            sink.error(child, `${label}: unicast_peer '${child.keyword}' is not a valid IP address`)
            continue
          }
          const peer: VrrpInstanceConfig['unicastPeers'][number] = {address: child.keyword, source: at(child)}
          for (let i = 0; i < child.args.length; i += 2) {
            const key = child.args[i]!.text
            const val = parseInteger(sink, child.args[i + 1], child, 0, 255)
            if (key === 'min_ttl' && val !== undefined) peer.minTtl = val
            else if (key === 'max_ttl' && val !== undefined) peer.maxTtl = val
            else if (key !== 'min_ttl' && key !== 'max_ttl') sink.error(child, `${label}: unknown unicast_peer option '${key}'`)
          }
          v.unicastPeers.push(peer)
        }
      },
      lvs_sync_daemon_interface: (n) => {
        if (!expectArgs(sink, n, 1, 1)) return
        v.lvsSyncDaemonInterface = n.args[0]!.text
        sink.warning(n, `${label}: lvs_sync_daemon_interface in an instance is deprecated (keepalived says so too); kaopsd still honours it`)
      },
      garp_master_delay: (n) => {
        const x = parseTimerMs(sink, n.args[0], n)
        if (x !== undefined) v.garpMasterDelayMs = x
      },
      garp_master_repeat: (n) => {
        const x = parseInteger(sink, n.args[0], n, 0, 2147483647)
        if (x !== undefined) v.garpMasterRepeat = x
      },
      garp_master_refresh: (n) => {
        const x = parseTimerMs(sink, n.args[0], n)
        if (x !== undefined) v.garpMasterRefreshMs = x
      },
      garp_master_refresh_repeat: (n) => {
        const x = parseInteger(sink, n.args[0], n, 0, 2147483647)
        if (x !== undefined) v.garpMasterRefreshRepeat = x
      },
      virtual_router_id: (n) => {
        const x = parseInteger(sink, n.args[0], n, 1, 255)
        if (x !== undefined) v.virtualRouterId = x
      },
      priority: (n) => {
        const x = parseInteger(sink, n.args[0], n, 1, 255)
        if (x !== undefined) v.priority = x
      },
      advert_int: (n) => {
        advertNode = n
        const x = parseTimerMs(sink, n.args[0], n, {minMs: 10, maxMs: 255_000})
        if (x !== undefined) v.advertIntervalMs = x
      },
      version: (n) => {
        const x = parseInteger(sink, n.args[0], n, 2, 3)
        if (x !== undefined) {
          v.version = x as 2 | 3
          versionGiven = true
        }
      },
      authentication: (n) => {
        let type: 'PASS' | 'AH' | undefined
        let password: string | undefined
        runTable(sink, expectBlock(sink, n), {
          block: `${label} authentication`,
          handlers: {
            auth_type: (a) => {
              const t = a.args[0]?.text
              if (t === 'PASS') type = t
              else if (t === 'AH') {
                type = t
                sink.error(a, 'auth_type AH is not supported by kaopsd; use PASS or none')
              } else sink.error(a, `${label}: auth_type '${t ?? ''}' is not PASS or AH`)
            },
            auth_pass: (a) => {
              if (!expectArgs(sink, a, 1, 1)) return
              password = a.args[0]!.text
              if (password.length > 8) sink.warning(a, `${label}: auth_pass is longer than 8 characters; only the first 8 are used`)
            },
          },
        }, v)
        if (type && password !== undefined) v.authentication = {type, password}
        else if (type === 'PASS') sink.error(n, `${label}: auth_type PASS needs an auth_pass`)
      },
      virtual_ipaddress: (n) => {
        for (const child of expectBlock(sink, n)) {
          const a = parseIpAddressLine(sink, child, `${label} virtual_ipaddress`)
          if (a) v.virtualIpAddresses.push(a)
        }
      },
      virtual_ipaddress_excluded: (n) => {
        for (const child of expectBlock(sink, n)) {
          const a = parseIpAddressLine(sink, child, `${label} virtual_ipaddress_excluded`)
          if (a) v.virtualIpAddressesExcluded.push(a)
        }
      },
      virtual_routes: (n) => {
        for (const child of expectBlock(sink, n)) {
          const r = parseRouteLine(sink, child, `${label} virtual_routes`)
          if (r) v.virtualRoutes.push(r)
        }
      },
      virtual_rules: (n) => {
        for (const child of expectBlock(sink, n)) {
          const r = parseRuleLine(sink, child, `${label} virtual_rules`)
          if (r) v.virtualRules.push(r)
        }
      },
      nopreempt: () => {
        v.nopreempt = true
      },
      preempt: () => {
        v.nopreempt = false
      },
      preempt_delay: (n) => {
        const x = parseTimerMs(sink, n.args[0], n, {maxMs: 1000_000})
        if (x !== undefined) v.preemptDelayMs = x
      },
      debug: (n) => {
        const x = n.args[0] ? parseInteger(sink, n.args[0], n, 0, 4) : 1
        if (x !== undefined) v.debug = x
      },
      accept: () => {
        v.accept = true
      },
      strict_mode: (n) => {
        v.strictMode = parseFlag(sink, n)
      },
      skip_check_adv_addr: (n) => {
        v.skipCheckAdvAddr = parseFlag(sink, n)
      },
      check_unicast_src: (n) => {
        v.checkUnicastSrc = parseFlag(sink, n)
      },
      ...notifyHandlers<VrrpInstanceConfig>(sink),
    },
  }
  runTable(sink, expectBlock(sink, node), table, v)

  if (v.useVmac && v.unicastPeers.length > 0 && !v.vmacXmitBase) {
    sink.warning(node, `${label}: use_vmac with unicast_peer sends and receives adverts on ${v.interface ?? 'the base interface'} (as vmac_xmit_base does); add vmac_xmit_base to say so`)
  }
  const families = new Set(v.virtualIpAddresses.map((a) => a.family))
  if (families.size > 1) sink.error(node, `${label}: virtual_ipaddress mixes IPv4 and IPv6 addresses; use one instance per family`)
  if (v.virtualIpAddresses[0]) v.family = v.virtualIpAddresses[0].family
  // keepalived: IPv6 is VRRPv3 only, whatever vrrp_version says.
  if (v.family === 6) {
    if (versionGiven && v.version === 2) sink.error(node, `${label}: IPv6 needs VRRP version 3`)
    v.version = 3
  }
  if (v.version === 2 && v.advertIntervalMs % 1000 !== 0) {
    sink.error(advertNode ?? node, `${label}: VRRPv2 advert_int must be whole seconds (got ${v.advertIntervalMs / 1000}s); use version 3 for sub-second adverts`)
  }
  if (v.version === 3 && v.advertIntervalMs > 40_950) sink.error(advertNode ?? node, `${label}: VRRPv3 advert_int must be at most 40.95s`)
  if (v.version === 3 && v.advertIntervalMs % 10 !== 0) sink.error(advertNode ?? node, `${label}: VRRPv3 advert_int has a resolution of 0.01s`)
  if (v.version === 3 && v.authentication) sink.error(node, `${label}: VRRPv3 has no authentication; remove the authentication block`)
  if (v.authentication?.type === 'AH' && v.stateGiven && v.state === 'MASTER') {
    // Reported by keepalived too; the AH error above already makes the file fail.
  }
  return v
}
