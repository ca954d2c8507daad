import ipaddr from 'ipaddr.js'
import {hashSlotCount, roundRobinSlots, stableHashSlots, type WeightedKey} from './slots.js'
import type {NftFamily, NftMap, NftTable, NftTableState} from './nft-table.js'
import {serviceLabel, type IpFamily, type ServiceKey, type VirtualService} from './types.js'

/**
 * VirtualService[] -> the kaopsd tables nftables should hold (pure).
 *
 * NAT (`ip kaopsd`, `ip6 kaopsd`): a nat prerouting chain looks the packet's
 * (daddr . l4proto . dport), or its mark for fwmark services, up in a verdict map that jumps
 * to the service's chain; that chain DNATs through a map of slots: `numgen inc` over
 * weight-expanded slots for rr/wrr, `jhash` of the source address for sh and for
 * persistence_timeout (source affinity).
 *
 * DR (`netdev kaopsd`): an ingress chain on the director's interface dispatches the same way;
 * the service chain sets the source MAC to the director's, the destination MAC to the chosen
 * real server's (from the neighbour table), and forwards the frame back out of the interface.
 * With no conntrack at ingress, the choice must be a pure function of the flow, so it is a
 * jhash of (saddr . sport), or of saddr alone for sh/persistence.
 *
 * Persistence here is hash affinity, not IPVS's timed templates: a source keeps its server for
 * as long as that server stays in the set (stable slots), whatever persistence_timeout says;
 * persistence_granularity becomes a mask on the hashed source address.
 */

export interface NftEnvironment {
  /** interface name -> the director's MAC on it (DR). */
  interfaceMacs: Record<string, string>
  /** real server address -> its MAC, from the neighbour table (DR). */
  neighbours: Record<string, string>
}

export interface RenderedTables {
  tables: Map<NftFamily, NftTable | undefined>
  warnings: string[]
}

const hashSeed = '0x6b61'

export function normalizeAddress(a: string): string {
  return ipaddr.process(a).toString()
}

/** A chain/map name from the service key: stable across reloads, legal as an nft identifier. */
export function serviceId(k: ServiceKey): string {
  const v = k.family === 'ipv4' ? '4' : '6'
  if (k.kind === 'fwmark') return `fwm${v}_${k.mark}`
  return `vs${v}_${k.protocol.toLowerCase()}_${normalizeAddress(k.address).replace(/[.:]/g, '_')}_${k.port}`
}

function ident(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_')
}

function prefixMask(family: IpFamily, prefix: number | undefined): string {
  const bits = family === 'ipv4' ? 32 : 128
  if (prefix === undefined || prefix >= bits) return ''
  return ` and ${family === 'ipv6'
    ? ipaddr.IPv6.subnetMaskFromPrefixLength(prefix).toString()
    : ipaddr.IPv4.subnetMaskFromPrefixLength(prefix).toString()}`
}

function emptyTable(family: NftFamily): NftTable {
  return {family, chains: new Map(), maps: new Map()}
}

function currentSlots(current: NftTableState | undefined, map: string): Array<string | undefined> {
  const slots: Array<string | undefined> = []
  for (const [k, v] of current?.maps.get(map)?.elements ?? []) slots[Number(k)] = v
  return slots
}

function slotMap(decl: string, typeSig: string, slots: readonly string[]): NftMap {
  return {decl, typeSig, elements: new Map(slots.map((v, i) => [String(i), v]))}
}

export function renderNftables(
  services: readonly VirtualService[],
  env: NftEnvironment,
  current: ReadonlyMap<NftFamily, NftTableState | undefined> = new Map(),
): RenderedTables {
  const warnings: string[] = []
  const nat: Record<IpFamily, NftTable | undefined> = {ipv4: undefined, ipv6: undefined}
  let dr: NftTable | undefined

  for (const vs of services) {
    const k = vs.key
    const l3 = k.family === 'ipv4' ? 'ip' : 'ip6'
    const addrType = k.family === 'ipv4' ? 'ipv4_addr' : 'ipv6_addr'
    const id = serviceId(k)
    const persistent = (vs.persistenceTimeoutS ?? 0) > 0
    const bySource = vs.algo === 'sh' || persistent
    const mask = bySource ? prefixMask(k.family, vs.persistencePrefix) : ''

    if (vs.kind === 'NAT') {
      const fam: NftFamily = l3
      const table = (nat[k.family] ??= natBase(l3, addrType))
      const withPort = k.kind === 'address'
      const weighted: WeightedKey[] = vs.destinations.map((d) => ({
        key: withPort ? `${normalizeAddress(d.address)} . ${d.port}` : normalizeAddress(d.address),
        // rr ignores weights except 0 (quiescent), as IPVS does.
        weight: vs.algo === 'rr' ? Math.min(d.weight, 1) : d.weight,
      }))
      const decl = `typeof numgen inc mod 1 : ${l3} daddr${k.kind === 'address' ? ` . ${k.protocol.toLowerCase()} dport` : ''};`
      const typeSig = `integer : ${addrType}${withPort ? ' . inet_service' : ''}`
      const slots = bySource
        ? stableHashSlots(currentSlots(current.get(fam), id), weighted, hashSlotCount(weighted.length))
        : roundRobinSlots(weighted)
      table.maps.set(id, slotMap(decl, typeSig, slots))
      const proto = k.kind === 'address' ? `meta l4proto ${k.protocol.toLowerCase()} ` : ''
      const selector = bySource ? `jhash ${l3} saddr${mask} mod ${slots.length} seed ${hashSeed}` : `numgen inc mod ${slots.length}`
      const rule = slots.length === 0
        ? 'drop'
        : `${proto}dnat ${l3} ${withPort ? 'addr . port ' : ''}to ${selector} map @${id}`
      table.chains.set(id, {rules: [rule]})
      dispatch(table, k, id)
      continue
    }

    if (vs.kind !== 'DR' || k.kind !== 'address' || !vs.interface) continue // nftablesProblems() reports these
    const dev = vs.interface
    const ifMac = env.interfaceMacs[dev]
    if (!ifMac) {
      warnings.push(`virtual_server ${serviceLabel(k)}: no MAC known for interface ${dev}; service left out`)
      continue
    }
    const table = (dr ??= emptyTable('netdev'))
    const san = ident(dev)
    const v = k.family === 'ipv4' ? '4' : '6'
    if (!table.chains.has(`in_${san}`)) {
      table.chains.set(`in_${san}`, {
        hook: `type filter hook ingress device "${dev}" priority 0; policy accept;`,
        rules: [`ip daddr . meta l4proto . th dport vmap @dr4_${san}`, `ip6 daddr . meta l4proto . th dport vmap @dr6_${san}`],
      })
      for (const [m, t] of [[`dr4_${san}`, 'ipv4_addr'], [`dr6_${san}`, 'ipv6_addr']] as const) {
        table.maps.set(m, {decl: `type ${t} . inet_proto . inet_service : verdict;`, typeSig: `${t} . inet_proto . inet_service : verdict`, elements: new Map()})
      }
    }
    const weighted: WeightedKey[] = []
    for (const d of vs.destinations) {
      const mac = env.neighbours[normalizeAddress(d.address)] ?? env.neighbours[d.address]
      if (!mac) {
        if (d.weight > 0) warnings.push(`virtual_server ${serviceLabel(k)}: real server ${d.address} has no neighbour entry on ${dev}; left out until it resolves`)
        continue
      }
      weighted.push({key: mac.toLowerCase(), weight: vs.algo === 'rr' ? Math.min(d.weight, 1) : d.weight})
    }
    const slots = stableHashSlots(currentSlots(current.get('netdev'), id), weighted, hashSlotCount(weighted.length))
    table.maps.set(id, slotMap('typeof numgen inc mod 1 : ether daddr;', 'integer : ether_addr', slots))
    const flow = bySource ? `${l3} saddr${mask}` : `${l3} saddr . th sport`
    const rule = slots.length === 0
      ? 'drop'
      : `ether saddr set ${ifMac.toLowerCase()} ether daddr set jhash ${flow} mod ${slots.length} seed ${hashSeed} map @${id} fwd to "${dev}"`
    table.chains.set(id, {rules: [rule]})
    table.maps.get(`dr${v}_${san}`)!.elements.set(`${normalizeAddress(k.address)} . ${k.protocol.toLowerCase()} . ${k.port}`, `jump ${id}`)
  }

  return {tables: new Map<NftFamily, NftTable | undefined>([['ip', nat.ipv4], ['ip6', nat.ipv6], ['netdev', dr]]), warnings}
}

function natBase(l3: 'ip' | 'ip6', addrType: string): NftTable {
  const t = emptyTable(l3)
  t.maps.set('services', {decl: `type ${addrType} . inet_proto . inet_service : verdict;`, typeSig: `${addrType} . inet_proto . inet_service : verdict`, elements: new Map()})
  t.maps.set('fwmarks', {decl: 'type mark : verdict;', typeSig: 'mark : verdict', elements: new Map()})
  t.chains.set('prerouting', {
    hook: 'type nat hook prerouting priority dstnat; policy accept;',
    rules: [`${l3} daddr . meta l4proto . th dport vmap @services`, 'meta mark vmap @fwmarks'],
  })
  return t
}

function dispatch(table: NftTable, k: ServiceKey, id: string): void {
  if (k.kind === 'fwmark') table.maps.get('fwmarks')!.elements.set(String(k.mark), `jump ${id}`)
  else table.maps.get('services')!.elements.set(`${normalizeAddress(k.address)} . ${k.protocol.toLowerCase()} . ${k.port}`, `jump ${id}`)
}
