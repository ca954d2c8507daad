import type {Director, Inventory, RealServer} from '../model/inventory.js'
import type {SysctlSetting} from '../model/desired-state.js'
import {serviceVip, vipPriorities} from '../inventory/derive.js'

const sorted = (m: Map<string, string>): SysctlSetting[] => [...m].sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => ({key, value}))

/**
 * A director's kernel settings: forwarding when it NATs (replies come back through it), non-local
 * bind when an application (nginx, haproxy) must bind a VIP it does not hold yet, then the extras.
 */
export function directorSysctl(inv: Inventory, d: Director): SysctlSetting[] {
  const vips = inv.vips.filter((v) => vipPriorities(v).some(([n]) => n === d.name))
  const names = new Set(vips.map((v) => v.name))
  const services = inv.services.filter((s) => names.has(serviceVip(inv, s)?.name ?? ''))
  const m = new Map<string, string>()
  if (services.some((s) => s.forwarding === 'NAT')) m.set('net.ipv4.ip_forward', '1')
  const nonlocal = inv.hostSetup.nonlocalBind === 'auto' ? vips.some((v) => !services.some((s) => serviceVip(inv, s)?.name === v.name)) : inv.hostSetup.nonlocalBind
  if (nonlocal) m.set('net.ipv4.ip_nonlocal_bind', '1')
  for (const [k, v] of Object.entries(inv.hostSetup.sysctl)) m.set(k, String(v))
  return sorted(m)
}

/** The addresses (as /32 or /128) a DR real server must carry on lo. */
export function loopbackVips(inv: Inventory, r: RealServer): string[] {
  const out = new Set<string>()
  for (const s of inv.services) {
    if (s.forwarding !== 'DR' || !s.realServers.some((x) => x.name === r.name)) continue
    const v = serviceVip(inv, s)
    const addr = s.address ?? v?.addresses[0]?.address.split('/')[0]
    if (addr !== undefined) out.add(addr.includes(':') ? `${addr}/128` : `${addr}/32`)
  }
  return [...out].sort()
}

/** DR real servers: answer ARP only for addresses on the asking interface, announce the best source. */
export function realServerSysctl(inv: Inventory, r: RealServer): SysctlSetting[] {
  const m = new Map<string, string>()
  if (loopbackVips(inv, r).length > 0) {
    for (const scope of ['all', 'default', 'lo']) {
      m.set(`net.ipv4.conf.${scope}.arp_ignore`, '1')
      m.set(`net.ipv4.conf.${scope}.arp_announce`, '2')
    }
  }
  if (m.size > 0) for (const [k, v] of Object.entries(inv.hostSetup.realServerSysctl)) m.set(k, String(v))
  return sorted(m)
}
