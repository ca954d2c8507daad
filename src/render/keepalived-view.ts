import type {Director, HealthCheck, Inventory, NotifyHooks, Service, TrackScript, Vip} from '../model/inventory.js'
import {expectedMaster, hostPart, serviceAddress, serviceVip, vipDirectors, vipInterface, vipPriorities} from '../inventory/derive.js'
import {kaQuote, num} from './quote.js'

/**
 * The view of one director's keepalived.conf: every decision made here, in TypeScript, so the
 * template only lays out lines. Optional settings become `{k, v}` lines; absent ones are left out.
 */

export interface Line {
  k: string
  v: string
}

export interface Block {
  head: string
  lines: Line[]
  blocks: Block[]
}

export interface KeepalivedView {
  director: string
  globalDefs: Line[]
  emails: string[]
  scripts: Array<{name: string; lines: Line[]}>
  syncGroups: Array<{name: string; members: string[]; lines: Line[]}>
  instances: Array<{
    name: string
    lines: Line[]
    unicastPeers: string[]
    auth: Line[]
    addresses: string[]
    trackInterfaces: string[]
    trackScripts: string[]
    tail: Line[]
    raw: string[]
  }>
  virtualServers: Array<{head: string; lines: Line[]; realServers: Block[]}>
  raw: string[]
}

const line = (k: string, v: string | number | undefined | null): Line[] => (v === undefined || v === null ? [] : [{k, v: typeof v === 'number' ? num(v) : v}])
const flag = (k: string, on: boolean | undefined): Line[] => (on ? [{k, v: ''}] : [])

/** keepalived script names must be one word: VIP name + index when the inventory gives none. */
export function trackScriptName(vip: Vip, index: number, s: TrackScript): string {
  return s.name ?? `chk_${vip.name.replace(/[^A-Za-z0-9_]/g, '_')}_${index + 1}`
}

function notifyLines(n: NotifyHooks | undefined): Line[] {
  if (!n) return []
  return [
    ...line('notify_master', n.master && kaQuote(n.master)),
    ...line('notify_backup', n.backup && kaQuote(n.backup)),
    ...line('notify_fault', n.fault && kaQuote(n.fault)),
    ...line('notify_stop', n.stop && kaQuote(n.stop)),
    ...line('notify', n.notify && kaQuote(n.notify)),
  ]
}

function vipAddressLine(a: Vip['addresses'][number]): string {
  let s = a.address
  if (a.brd) s += ` brd ${a.brd}`
  if (a.dev) s += ` dev ${a.dev}`
  if (a.label) s += ` label ${a.label}`
  if (a.scope) s += ` scope ${a.scope}`
  return s
}

function checker(h: HealthCheck): Block {
  const common = [
    ...line('connect_port', h.connectPort),
    ...line('connect_timeout', h.connectTimeout),
    ...line('retry', h.retry),
    ...line('delay_before_retry', h.delayBeforeRetry),
  ]
  switch (h.type) {
    case 'HTTP_GET':
    case 'SSL_GET':
      return {
        head: h.type,
        lines: [...common, ...line('virtualhost', h.virtualhost)],
        blocks: [{head: 'url', lines: [...line('path', h.path), ...line('digest', h.digest), ...line('status_code', h.statusCode)], blocks: []}],
      }
    case 'TCP_CHECK':
      return {head: h.type, lines: common, blocks: []}
    case 'SMTP_CHECK':
      return {head: h.type, lines: [...common, ...line('helo_name', h.helo)], blocks: []}
    case 'MISC_CHECK':
      return {head: h.type, lines: [...line('misc_path', h.script && kaQuote(h.script)), ...line('misc_timeout', h.timeout), ...flag('misc_dynamic', h.dynamic)], blocks: []}
  }
}

function virtualServer(inv: Inventory, s: Service): KeepalivedView['virtualServers'][number] {
  const hosts = new Map(inv.realServers.map((r) => [r.name, r]))
  return {
    head: `${serviceAddress(inv, s)} ${s.port}`,
    lines: [
      ...line('delay_loop', s.delayLoop),
      ...line('lb_algo', s.scheduler),
      ...line('lb_kind', s.forwarding),
      ...line('persistence_timeout', s.persistence?.timeout),
      ...line('persistence_granularity', s.persistence?.granularity),
      ...line('protocol', s.protocol),
      ...line('quorum', s.quorum),
      ...line('hysteresis', s.hysteresis),
      ...line('quorum_up', s.quorumUp && kaQuote(s.quorumUp)),
      ...line('quorum_down', s.quorumDown && kaQuote(s.quorumDown)),
      ...line('sorry_server', s.sorryServer && `${s.sorryServer.address} ${s.sorryServer.port ?? s.port}`),
      ...(s.raw ?? []).map((r) => ({k: r, v: ''})),
    ],
    realServers: s.realServers.map((r) => {
      const check = r.healthCheck ?? s.healthCheck
      return {
        head: `real_server ${hostPart(hosts.get(r.name)!.address)} ${r.port ?? s.port}`,
        lines: [
          ...line('weight', r.weight),
          ...flag('inhibit_on_failure', r.inhibitOnFailure),
          ...line('notify_up', r.notifyUp && kaQuote(r.notifyUp)),
          ...line('notify_down', r.notifyDown && kaQuote(r.notifyDown)),
        ],
        blocks: check ? [checker(check)] : [],
      }
    }),
  }
}

export function keepalivedView(inv: Inventory, director: Director): KeepalivedView {
  const vips = inv.vips.filter((v) => vipPriorities(v).some(([d]) => d === director.name))
  const vipNames = new Set(vips.map((v) => v.name))
  const hasScripts = vips.some((v) => v.trackScripts.length > 0 || v.notify !== undefined) || inv.services.some((s) => [s.healthCheck, ...s.realServers.map((r) => r.healthCheck)].some((h) => h?.type === 'MISC_CHECK'))
  const n = inv.notifications
  const ka = inv.keepalived
  const globalDefs: Line[] = [
    ...line('notification_email_from', n?.from),
    ...line('smtp_server', n?.smtpServer),
    ...line('smtp_connect_timeout', n?.smtpConnectTimeout),
    ...line('router_id', director.name),
    // Scripts run as root unless told otherwise; saying so silences keepalived's warning and makes it explicit.
    ...line('script_user', ka.scriptUser ?? (hasScripts ? 'root' : undefined)),
    ...flag('enable_script_security', ka.enableScriptSecurity ?? hasScripts),
    ...(ka.globalDefs ?? []).map((r) => ({k: r, v: ''})),
  ]

  const scripts = new Map<string, {name: string; lines: Line[]}>()
  for (const v of vips) {
    v.trackScripts.forEach((s, i) => {
      const name = trackScriptName(v, i, s)
      scripts.set(name, {
        name,
        lines: [
          ...line('script', kaQuote(s.script)),
          ...line('interval', s.interval),
          ...line('timeout', s.timeout),
          ...line('weight', s.weight),
          ...line('fall', s.fall),
          ...line('rise', s.rise),
          ...line('user', s.user),
        ],
      })
    })
  }

  const groups = new Map<string, string[]>()
  for (const v of vips) if (v.syncGroup) groups.set(v.syncGroup, [...(groups.get(v.syncGroup) ?? []), v.name])
  const syncGroups = [...groups].map(([name, members]) => {
    const g = inv.syncGroups.find((x) => x.name === name)
    return {name, members, lines: [...notifyLines(g?.notify), ...flag('smtp_alert', g?.smtpAlert)]}
  })

  const instances = vips.map((v) => {
    const prio = new Map(vipPriorities(v))
    const peers = vipDirectors(inv, v).filter((d) => d.name !== director.name)
    // nopreempt and preempt_delay only work when every router starts as BACKUP (keepalived
    // clears preempt_delay on an initial MASTER); the election still picks the highest priority.
    const state = v.preempt && v.preemptDelay === undefined && expectedMaster(v) === director.name ? 'MASTER' : 'BACKUP'
    const secret = inv.secrets[v.name]
    return {
      name: v.name,
      lines: [
        ...line('state', state),
        ...line('interface', vipInterface(v, director)),
        ...line('virtual_router_id', v.vrid),
        ...line('priority', prio.get(director.name)),
        ...line('advert_int', v.advertInterval),
        ...line('version', v.version === 3 ? 3 : undefined),
        ...flag('nopreempt', !v.preempt),
        ...line('preempt_delay', v.preemptDelay),
        ...line('garp_master_delay', v.garpMasterDelay),
        ...line('unicast_src_ip', v.unicast ? hostPart(director.address) : undefined),
      ],
      unicastPeers: v.unicast ? peers.map((d) => hostPart(d.address)) : [],
      auth: v.authentication && secret ? [...line('auth_type', v.authentication.type), ...line('auth_pass', secret.reveal())] : [],
      addresses: v.addresses.map(vipAddressLine),
      trackInterfaces: v.trackInterfaces,
      trackScripts: v.trackScripts.map((s, i) => trackScriptName(v, i, s)),
      tail: [...notifyLines(v.notify), ...flag('smtp_alert', v.smtpAlert)],
      raw: v.raw ?? [],
    }
  })

  const virtualServers = inv.services.filter((s) => vipNames.has(serviceVip(inv, s)?.name ?? '')).map((s) => virtualServer(inv, s))

  return {
    director: director.name,
    globalDefs,
    emails: n?.emails ?? [],
    scripts: [...scripts.values()],
    syncGroups,
    instances,
    virtualServers,
    raw: director.raw ?? [],
  }
}
