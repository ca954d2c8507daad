import type {ActualAddress} from '../model/actual-state.js'
import type {Inventory} from '../model/inventory.js'
import type {KaopsdStatus, VrrpStateName} from '../model/kaopsd-status.js'
import {expectedMaster, hostPart, sameIp, serviceAddress, serviceVip, vipPriorities} from '../inventory/derive.js'

/**
 * `kaops status`: one screen of the whole site, computed from recorded facts (each director's
 * addresses and `kaopsd status --json`). Pure, so the formatter and tests need no host.
 */

/** What was read from one director; `error` when it could not be reached or probed. */
export interface DirectorFacts {
  addresses: ActualAddress[]
  kaopsdStatus?: unknown
  error?: string
}

export interface DirectorVipState {
  director: string
  /** null when kaopsd did not answer or has no such instance. */
  state: VrrpStateName | null
  priority: number | null
  effectivePriority: number | null
  /** An operator takeover in force here (`kaopsd takeover`, a rollout's handover): seconds left. */
  takeoverSecondsLeft: number | null
  /** The VIP's addresses are on this director right now. */
  holdsAddress: boolean
}

export type VipHealth = 'ok' | 'moved' | 'down' | 'split-brain' | 'unknown'

export interface VipStatus {
  name: string
  vrid: number
  addresses: string[]
  expectedMaster: string | null
  /** Directors with the VIP's first address on an interface. */
  holders: string[]
  health: VipHealth
  directors: DirectorVipState[]
}

export interface RealServerState {
  name: string
  address: string
  port: number
  weight: number | null
  /** null: unknown (no holder, or kaopsd did not report it). */
  up: boolean | null
  detail: string | null
}

export interface ServiceStatus {
  name: string
  vip: string | null
  endpoint: string
  /** Whose kaopsd the real-server states come from (the VIP holder). */
  reportedBy: string | null
  realServers: RealServerState[]
}

export interface DirectorSummary {
  name: string
  reachable: boolean
  error: string | null
  kaopsd: string | null
  release: string | null
}

export interface SiteStatus {
  format_version: 1
  inventory: string
  directors: DirectorSummary[]
  vips: VipStatus[]
  services: ServiceStatus[]
  /** True when every VIP is held by exactly one director and every director answered. */
  healthy: boolean
}

function kaopsd(f: DirectorFacts | undefined): KaopsdStatus | undefined {
  const s = f?.kaopsdStatus as Partial<KaopsdStatus> | undefined
  return s && Array.isArray(s.instances) ? (s as KaopsdStatus) : undefined
}

export function buildSiteStatus(inv: Inventory, facts: Map<string, DirectorFacts>): SiteStatus {
  const directors: DirectorSummary[] = inv.directors.map((d) => {
    const f = facts.get(d.name)
    const st = kaopsd(f)
    return {name: d.name, reachable: !!f && !f.error, error: f?.error ?? (f ? null : 'not probed'), kaopsd: st?.version ?? null, release: st?.release ?? null}
  })

  const vips: VipStatus[] = inv.vips.map((v) => {
    const first = hostPart(v.addresses[0]!.address)
    const prios = vipPriorities(v)
    const states: DirectorVipState[] = prios.map(([name]) => {
      const f = facts.get(name)
      const inst = kaopsd(f)?.instances.find((i) => i.vrid === v.vrid || i.name === v.name)
      return {
        director: name,
        state: inst?.state ?? null,
        priority: inst?.priority ?? null,
        effectivePriority: inst?.effectivePriority ?? null,
        takeoverSecondsLeft: inst?.takeover?.secondsLeft ?? null,
        holdsAddress: !!f && !f.error && f.addresses.some((a) => sameIp(hostPart(a.cidr), first)),
      }
    })
    const holders = states.filter((s) => s.holdsAddress).map((s) => s.director)
    const expected = expectedMaster(v) ?? null
    const unknown = states.some((s) => !directors.find((d) => d.name === s.director)?.reachable)
    const health: VipHealth = holders.length > 1 ? 'split-brain' : holders.length === 1 ? (holders[0] === expected ? 'ok' : 'moved') : unknown ? 'unknown' : 'down'
    return {name: v.name, vrid: v.vrid, addresses: v.addresses.map((a) => a.address), expectedMaster: expected, holders, health, directors: states}
  })

  const rsByName = new Map(inv.realServers.map((r) => [r.name, r]))
  const services: ServiceStatus[] = inv.services.map((s) => {
    const vip = serviceVip(inv, s)
    const address = serviceAddress(inv, s) ?? '?'
    const vs = vips.find((x) => x.name === vip?.name)
    const reportedBy = vs && vs.holders.length === 1 ? vs.holders[0]! : null
    const vsStatus = reportedBy ? kaopsd(facts.get(reportedBy))?.virtualServers.find((x) => x.address !== null && sameIp(x.address, address) && x.port === s.port) : undefined
    return {
      name: s.name,
      vip: vip?.name ?? null,
      endpoint: `${address}:${s.port}`,
      reportedBy,
      realServers: s.realServers.map((r) => {
        const ip = hostPart(rsByName.get(r.name)?.address ?? '?')
        const port = r.port ?? s.port
        const rs = vsStatus?.realServers.find((x) => sameIp(x.address, ip) && x.port === port)
        return {name: r.name, address: ip, port, weight: rs?.weight ?? null, up: rs ? rs.up : null, detail: rs?.lastCheck?.detail ?? null}
      }),
    }
  })

  const healthy = directors.every((d) => d.reachable) && vips.every((v) => v.health === 'ok' || v.health === 'moved')
  return {format_version: 1, inventory: inv.sourcePath, directors, vips, services, healthy}
}
