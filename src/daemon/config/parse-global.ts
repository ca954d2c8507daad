import type {GlobalDefs, NotifyFifoConfig} from '../../model/keepalived-config.js'
import type {DiagnosticSink} from './diagnostics.js'
import {runTable, type Handler, type KeywordTable} from './keyword-table.js'
import type {ConfigNode} from './tree.js'
import {at, expectArgs, expectBlock, parseFlag, parseInteger, parseNotifyCommand, parseTimerMs, parseUser, ipFamily} from './values.js'

/** global_defs: notification, router id, VRRP defaults, script security, kaopsd extensions. */

/** Keywords keepalived 2.2 accepts in global_defs that kaopsd has no use for. */
const IGNORED = new Set([
  'max_auto_priority', 'min_auto_priority_delay', 'lvs_timeouts', 'lvs_flush', 'lvs_flush_onstop',
  'lvs_sync_daemon', 'vrrp_no_swap', 'checker_no_swap', 'vrrp_rx_bufs_policy', 'vrrp_rx_bufs_multiplier',
  'vrrp_netlink_cmd_rcv_bufs', 'vrrp_netlink_monitor_rcv_bufs', 'process_names', 'dynamic_interfaces',
  'vrrp_startup_delay', 'vrrp_min_garp', 'vrrp_down_timer_adverts', 'vrrp_ipsets', 'nftables',
  'nftables_priority', 'nftables_counters', 'nftables_ifindex', 'nftables_version', 'snmp_socket',
  'enable_snmp_vrrp', 'enable_snmp_checker', 'enable_snmp_rfc', 'enable_snmp_rfcv2', 'enable_snmp_rfcv3',
  'enable_dbus', 'dbus_service_name', 'net_namespace', 'namespace_with_ipsets', 'instance', 'linkbeat_use_polling',
  'no_email_faults', 'umask', 'vrrp_rt_priority', 'checker_rt_priority', 'vrrp_priority', 'checker_priority',
  'bfd_priority', 'reload_check_config', 'reload_time_file', 'reload_repeat', 'reload_file', 'data_use_instance',
  'use_pid_dir', 'vrrp_cpu_affinity', 'checker_cpu_affinity', 'bfd_cpu_affinity', 'include_check',
  'random_seed', 'tmp_config_directory', 'config_save_dir', 'vmac_prefix', 'vmac_addr_prefix',
  'fifo_write_vrrp_states_on_reload', 'startup_script', 'startup_script_timeout', 'shutdown_script',
  'shutdown_script_timeout', 'vrrp_mcast_group4_ttl',
])

function parseFifo(sink: DiagnosticSink, node: ConfigNode): NotifyFifoConfig | undefined {
  if (!expectArgs(sink, node, 1, 3)) return undefined
  const fifo: NotifyFifoConfig = {path: node.args[0]!.text}
  if (node.args[1]) fifo.user = node.args[2] ? {user: node.args[1].text, group: node.args[2].text} : {user: node.args[1].text}
  return fifo
}

function hostPort(sink: DiagnosticSink, node: ConfigNode, defaultPort?: number): {host: string; port: number} | undefined {
  // `smtp_server HOST [PORT]` or `metrics_listen ADDR:PORT` / `[v6]:PORT`.
  const first = node.args[0]
  if (!first) {
    sink.error(node, `'${node.keyword}' needs an address`)
    return undefined
  }
  let host = first.text
  let portText = node.args[1]?.text
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(host)
  const colon = /^([^:]+):(\d+)$/.exec(host)
  if (bracketed) [host, portText] = [bracketed[1]!, bracketed[2]]
  else if (colon) [host, portText] = [colon[1]!, colon[2]]
  if (portText === undefined) {
    if (defaultPort === undefined) {
      sink.error(node, `'${node.keyword}' needs ADDRESS:PORT`)
      return undefined
    }
    return {host, port: defaultPort}
  }
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    sink.error(node, `'${node.keyword}': port '${portText}' is not in 1..65535`)
    return undefined
  }
  return {host, port}
}

const flag = (sink: DiagnosticSink, key: 'vrrpSkipCheckAdvAddr' | 'vrrpStrict' | 'enableScriptSecurity' | 'vrrpLowerPrioNoAdvert' | 'vrrpHigherPrioSendAdvert' | 'vrrpCheckUnicastSrc'): Handler<GlobalDefs> =>
  (node, g) => {
    g[key] = parseFlag(sink, node)
  }

export function globalDefsTable(sink: DiagnosticSink): KeywordTable<GlobalDefs> {
  const timer = (key: 'smtpConnectTimeoutMs' | 'vrrpGarpIntervalMs' | 'vrrpGnaIntervalMs' | 'vrrpGarpMasterDelayMs' | 'vrrpGarpMasterRefreshMs' | 'vrrpGarpLowerPrioDelayMs', maxMs?: number): Handler<GlobalDefs> =>
    (node, g) => {
      const v = parseTimerMs(sink, node.args[0], node, maxMs === undefined ? {} : {maxMs})
      if (v !== undefined) g[key] = v
    }
  const count = (key: 'vrrpGarpMasterRepeat' | 'vrrpGarpMasterRefreshRepeat' | 'vrrpGarpLowerPrioRepeat'): Handler<GlobalDefs> =>
    (node, g) => {
      const v = parseInteger(sink, node.args[0], node, 0, 2147483647)
      if (v !== undefined) g[key] = v
    }
  return {
    block: 'global_defs',
    ignored: IGNORED,
    handlers: {
      notification_email: (node, g) => {
        for (const child of expectBlock(sink, node)) g.notificationEmail.push(child.keyword, ...child.args.map((t) => t.text))
      },
      notification_email_from: (node, g) => {
        if (expectArgs(sink, node, 1, 1)) g.notificationEmailFrom = node.args[0]!.text
      },
      smtp_server: (node, g) => {
        const hp = hostPort(sink, node, 25)
        if (hp) g.smtpServer = hp
      },
      smtp_helo_name: (node, g) => {
        if (expectArgs(sink, node, 1, 1)) g.smtpHeloName = node.args[0]!.text
      },
      smtp_connect_timeout: timer('smtpConnectTimeoutMs'),
      smtp_alert: (node, g) => {
        g.smtpAlert = parseFlag(sink, node)
      },
      smtp_alert_vrrp: (node, g) => {
        g.smtpAlertVrrp = parseFlag(sink, node)
      },
      smtp_alert_checker: (node, g) => {
        g.smtpAlertChecker = parseFlag(sink, node)
      },
      router_id: (node, g) => {
        if (expectArgs(sink, node, 1, 1)) g.routerId = node.args[0]!.text
      },
      default_interface: (node, g) => {
        if (expectArgs(sink, node, 1, 1)) g.defaultInterface = node.args[0]!.text
      },
      vrrp_skip_check_adv_addr: flag(sink, 'vrrpSkipCheckAdvAddr'),
      vrrp_strict: flag(sink, 'vrrpStrict'),
      vrrp_check_unicast_src: flag(sink, 'vrrpCheckUnicastSrc'),
      vrrp_lower_prio_no_advert: flag(sink, 'vrrpLowerPrioNoAdvert'),
      vrrp_higher_prio_send_advert: flag(sink, 'vrrpHigherPrioSendAdvert'),
      enable_script_security: flag(sink, 'enableScriptSecurity'),
      vrrp_iptables: (node, g) => {
        const [input, output] = node.args
        g.vrrpIptables = {...(input ? {inputChain: input.text} : {}), ...(output ? {outputChain: output.text} : {})}
      },
      vrrp_mcast_group4: (node, g) => {
        if (!expectArgs(sink, node, 1, 1)) return
        if (ipFamily(node.args[0]!.text) !== 4) sink.error(node.args[0]!, `'vrrp_mcast_group4': '${node.args[0]!.text}' is not an IPv4 address`)
        else g.vrrpMcastGroup4 = node.args[0]!.text
      },
      vrrp_mcast_group6: (node, g) => {
        if (!expectArgs(sink, node, 1, 1)) return
        if (ipFamily(node.args[0]!.text) !== 6) sink.error(node.args[0]!, `'vrrp_mcast_group6': '${node.args[0]!.text}' is not an IPv6 address`)
        else g.vrrpMcastGroup6 = node.args[0]!.text
      },
      vrrp_garp_interval: timer('vrrpGarpIntervalMs', 1_000_000),
      vrrp_gna_interval: timer('vrrpGnaIntervalMs', 1_000_000),
      vrrp_garp_master_delay: timer('vrrpGarpMasterDelayMs'),
      vrrp_garp_master_repeat: count('vrrpGarpMasterRepeat'),
      vrrp_garp_master_refresh: timer('vrrpGarpMasterRefreshMs'),
      vrrp_garp_master_refresh_repeat: count('vrrpGarpMasterRefreshRepeat'),
      vrrp_garp_lower_prio_delay: timer('vrrpGarpLowerPrioDelayMs'),
      vrrp_garp_lower_prio_repeat: count('vrrpGarpLowerPrioRepeat'),
      vrrp_version: (node, g) => {
        const v = parseInteger(sink, node.args[0], node, 2, 3)
        if (v !== undefined) g.vrrpVersion = v as 2 | 3
      },
      script_user: (node, g) => {
        const user = parseUser(sink, node)
        if (user) g.scriptUser = user
      },
      enable_traps: (node, g) => {
        g.enableTraps = true
        sink.error(node, 'enable_traps (SNMP traps) is not supported by kaopsd; remove it (kaopsd has JSON status and Prometheus metrics instead)')
      },
      notify_fifo: (node, g) => {
        const f = parseFifo(sink, node)
        if (f) g.notifyFifo = {...g.notifyFifo, ...f}
      },
      notify_fifo_script: (node, g) => {
        const s = parseNotifyCommand(sink, node)
        if (s) g.notifyFifo = {path: g.notifyFifo?.path ?? '', ...g.notifyFifo, script: s}
      },
      vrrp_notify_fifo: (node, g) => {
        const f = parseFifo(sink, node)
        if (f) g.vrrpNotifyFifo = {...g.vrrpNotifyFifo, ...f}
      },
      vrrp_notify_fifo_script: (node, g) => {
        const s = parseNotifyCommand(sink, node)
        if (s) g.vrrpNotifyFifo = {path: g.vrrpNotifyFifo?.path ?? '', ...g.vrrpNotifyFifo, script: s}
      },
      lvs_notify_fifo: (node, g) => {
        const f = parseFifo(sink, node)
        if (f) g.lvsNotifyFifo = {...g.lvsNotifyFifo, ...f}
      },
      lvs_notify_fifo_script: (node, g) => {
        const s = parseNotifyCommand(sink, node)
        if (s) g.lvsNotifyFifo = {path: g.lvsNotifyFifo?.path ?? '', ...g.lvsNotifyFifo, script: s}
      },
      lvs_backend: (node, g) => {
        if (!expectArgs(sink, node, 1, 1)) return
        const v = node.args[0]!.text
        if (v === 'auto' || v === 'ipvs' || v === 'nftables') g.lvsBackend = v
        else sink.error(node.args[0]!, `'lvs_backend': '${v}' is not one of auto|ipvs|nftables`)
      },
      metrics_listen: (node, g) => {
        if (!expectArgs(sink, node, 1, 1)) return
        const hp = hostPort(sink, node)
        if (!hp) return
        if (!ipFamily(hp.host) && hp.host !== 'localhost') sink.error(node, `'metrics_listen': '${hp.host}' is not an IP address`)
        else g.metricsListen = hp
      },
    },
  }
}

export function parseGlobalDefs(sink: DiagnosticSink, node: ConfigNode, g: GlobalDefs): void {
  g.source = at(node)
  runTable(sink, expectBlock(sink, node), globalDefsTable(sink), g)
}
