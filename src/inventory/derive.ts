import ipaddr from 'ipaddr.js'
import type {Director, InventoryDoc, Service, Vip} from '../model/inventory.js'

/**
 * Facts derived from the inventory that both the semantic checks and the renderer need, so the
 * two can never disagree: priorities, the preferred master, unicast peers, service addresses.
 */

/** Address part of a CIDR string. */
export const hostPart = (cidr: string): string => cidr.split('/')[0]!

/**
 * Director -> priority. An ordered `directors:` list gets 150, 100, 50 (more than three
 * directors: evenly spaced from 150 down), so the first is the preferred master.
 */
export function vipPriorities(vip: Vip): Array<[director: string, priority: number]> {
  if (vip.priorities) return Object.entries(vip.priorities)
  const list = vip.directors ?? []
  const step = list.length <= 3 ? 50 : Math.max(1, Math.floor(149 / (list.length - 1)))
  return list.map((d, i) => [d, 150 - i * step])
}

/** The director with the highest priority (ties broken by inventory order). */
export function expectedMaster(vip: Vip): string | undefined {
  let best: [string, number] | undefined
  for (const e of vipPriorities(vip)) if (!best || e[1] > best[1]) best = e
  return best?.[0]
}

export function vipInterface(vip: Vip, director: Director): string {
  return vip.interface ?? director.interface
}

/** Directors taking part in `vip`, in inventory order (deterministic output). */
export function vipDirectors(inv: InventoryDoc, vip: Vip): Director[] {
  const names = new Set(vipPriorities(vip).map(([d]) => d))
  return inv.directors.filter((d) => names.has(d.name))
}

/** The VIP a service hangs on: named, or the one holding its address. */
export function serviceVip(inv: InventoryDoc, s: Service): Vip | undefined {
  if (s.vip !== undefined) return inv.vips.find((v) => v.name === s.vip)
  if (s.address === undefined) return undefined
  return inv.vips.find((v) => v.addresses.some((a) => sameIp(hostPart(a.address), s.address!)))
}

export function serviceAddress(inv: InventoryDoc, s: Service): string | undefined {
  if (s.address !== undefined) return s.address
  const v = serviceVip(inv, s)
  return v ? hostPart(v.addresses[0]!.address) : undefined
}

export function sameIp(a: string, b: string): boolean {
  try {
    return ipaddr.parse(a).toNormalizedString() === ipaddr.parse(b).toNormalizedString()
  } catch {
    return a === b
  }
}

export function isIPv6(addr: string): boolean {
  return hostPart(addr).includes(':')
}
