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
 * weight-expanded slots for rr/wrr, `jhash` of the source address for sh.
 *
 * DR (`netdev kaopsd`): an ingress chain on the director's interface dispatches the same way;
 * the service chain sets the source MAC to the director's, the destination MAC to the chosen
 * real server's (from the neighbour table), and forwards the frame back out of the interface.
 * With no conntrack at ingress, the choice must be a pure function of the flow, so it is a
 * jhash of (saddr . sport), or of saddr alone for sh/persistence.
 *
 * persistence_timeout N (IPVS's persistent templates): a map per service from the client's
 * address (masked by persistence_granularity) to its real server, with a timeout of N seconds
 * that every packet of the client's flows refreshes (`update` from the packet path). A client
 * found there goes to its server; one not found is scheduled as usual and recorded. When a
 * real server leaves the service, the same transaction that takes it out of the slots evicts
 * its clients, so their next connection is scheduled afresh. Quiescent servers (weight 0) keep
 * their clients, as IPVS does by default (sysctl expire_quiescent_template=0).
 * - NAT: the service chain only sees a flow's first packet, so the refresh runs in a filter
 *   chain just after NAT (`persistence`), on the translated packet: conntrack's original tuple
 *   names the service, the packet's new destination names the real server. Only a real server
 *   still in the service has an entry there, so an old flow to a departed server cannot put
 *   its client back.
 * - DR: every packet passes the service chain, which looks up, refreshes and forwards in one rule.
 * Differences from IPVS: the timeout runs from the client's last packet (IPVS: from its last
 * connection's end), and two first packets of one new client racing on two CPUs may be
 * scheduled apart (the map then keeps the first).
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
/**
 * Clients remembered per persistent service. Past it, new clients are still served, scheduled
 * as if the service were not persistent, until entries time out.
 */
export const persistMapSize = 65536

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
    const persistS = vs.persistenceTimeoutS ?? 0
    const persistent = persistS > 0
    const persistId = `${id}_persist`
    const mask = vs.algo === 'sh' || persistent ? prefixMask(k.family, vs.persistencePrefix) : ''
    const client = `${l3} saddr${mask}`
    const persistMap = (value: string): NftMap => ({
      decl: `type ${addrType} : ${value}; flags dynamic,timeout; timeout ${persistS}s; size ${persistMapSize};`,
      typeSig: `${addrType} : ${value} timeout ${persistS}s`,
      elements: new Map(),
      filledByPackets: {evict: new Map()},
    })

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
      const bySource = vs.algo === 'sh'
      const slots = bySource
        ? stableHashSlots(currentSlots(current.get(fam), id), weighted, hashSlotCount(weighted.length))
        : roundRobinSlots(weighted)
      table.maps.set(id, slotMap(decl, typeSig, slots))
      const proto = k.kind === 'address' ? `meta l4proto ${k.protocol.toLowerCase()} ` : ''
      const dnat = `${proto}dnat ${l3} ${withPort ? 'addr . port ' : ''}to`
      const selector = bySource ? `jhash ${client} mod ${slots.length} seed ${hashSeed}` : `numgen inc mod ${slots.length}`
      const schedule = slots.length === 0 ? 'drop' : `${dnat} ${selector} map @${id}`
      if (persistent && vs.destinations.length > 0) {
        // nft 1.0.6 cannot write a concatenation that starts with an IPv6 address from the
        // packet path (its register allocation asserts), so an IPv6 service remembers the
        // address alone and DNATs to the port its real servers share (nftablesProblems()
        // refuses real servers on different ports).
        const addressOnly = !withPort || k.family === 'ipv6'
        const map = persistMap(addressOnly ? addrType : `${addrType} . inet_service`)
        const remembered = vs.destinations.map((d) => addressOnly ? normalizeAddress(d.address) : `${normalizeAddress(d.address)} . ${d.port}`)
        evictDeparted(map, current.get(fam)?.maps.get(persistId)?.elements, remembered)
        table.maps.set(persistId, map)
        const known = withPort && addressOnly
          ? `${proto}dnat ${l3} to ${client} map @${persistId} : ${vs.destinations[0]!.port}`
          : `${dnat} ${client} map @${persistId}`
        // Known client: its server (refreshed by the persistence chain); else scheduled as usual.
        table.chains.set(id, {rules: [known, schedule]})
        table.chains.set(`${id}_refresh`, {rules: [`update @${persistId} { ${client} : ${l3} daddr${addressOnly ? '' : ' . th dport'} }`]})
        addPersistenceHook(table, l3, addrType)
        for (const w of weighted) {
          const key = k.kind === 'fwmark'
            ? `${k.mark} . ${w.key}`
            : `${normalizeAddress(k.address)} . ${k.protocol.toLowerCase()} . ${k.port} . ${w.key}`
          table.maps.get(k.kind === 'fwmark' ? 'persistent_fwmarks' : 'persistent')!.elements.set(key, `jump ${id}_refresh`)
        }
      } else {
        table.chains.set(id, {rules: [schedule]})
      }
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
    // A fresh persistent client is hashed by its address alone: should its entry time out in the
    // middle of an idle connection, the connection's next packet most likely lands where it was.
    const flow = vs.algo === 'sh' || persistent ? client : `${l3} saddr . th sport`
    const out = `ether saddr set ${ifMac.toLowerCase()} fwd to "${dev}"`
    const hashed = `ether daddr set jhash ${flow} mod ${slots.length} seed ${hashSeed} map @${id}`
    if (slots.length === 0 && !persistent) {
      table.chains.set(id, {rules: ['drop']})
    } else if (!persistent) {
      table.chains.set(id, {rules: [`ether saddr set ${ifMac.toLowerCase()} ${hashed} fwd to "${dev}"`]})
    } else {
      const map = persistMap('ether_addr')
      evictDeparted(map, current.get('netdev')?.maps.get(persistId)?.elements, weighted.map((w) => w.key))
      table.maps.set(persistId, map)
      const remember = `update @${persistId} { ${client} : ether daddr }`
      table.chains.set(id, {rules: [
        // Known client: its server, entry refreshed. New client: hashed and remembered; when
        // the map is full (update fails), the last rule still forwards, unremembered.
        `ether daddr set ${client} map @${persistId} ${remember} ${out}`,
        ...(slots.length === 0 ? ['drop'] : [`${hashed} ${remember} ${out}`, `${hashed} ${out}`]),
      ]})
    }
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

/**
 * The filter chain right after NAT that refreshes persistent clients on every packet of their
 * flows (original direction only: a reply's source is the real server), and its two verdict
 * maps: (VIP . protocol . port . real server . port) and (mark . real server) -> the service's
 * refresh chain. `ct original proto-dst` needs a protocol in the rule, hence one rule each.
 */
function addPersistenceHook(table: NftTable, l3: 'ip' | 'ip6', addrType: string): void {
  if (table.chains.has('persistence')) return
  table.maps.set('persistent', {
    decl: `type ${addrType} . inet_proto . inet_service . ${addrType} . inet_service : verdict;`,
    typeSig: `${addrType} . inet_proto . inet_service . ${addrType} . inet_service : verdict`,
    elements: new Map(),
  })
  table.maps.set('persistent_fwmarks', {decl: `type mark . ${addrType} : verdict;`, typeSig: `mark . ${addrType} : verdict`, elements: new Map()})
  table.chains.set('persistence', {
    hook: 'type filter hook prerouting priority dstnat + 1; policy accept;',
    rules: [
      ...['tcp', 'udp', 'sctp'].map((p) =>
        `meta l4proto ${p} ct direction original ct original ${l3} daddr . meta l4proto . ct original proto-dst . ${l3} daddr . th dport vmap @persistent`),
      `ct direction original meta mark . ${l3} daddr vmap @persistent_fwmarks`,
    ],
  })
}

/** Marks for eviction the remembered clients whose server is no longer among `kept` (map values as read back). */
function evictDeparted(map: NftMap, remembered: ReadonlyMap<string, string> | undefined, kept: readonly string[]): void {
  const keep = new Set(kept)
  for (const [clientKey, server] of remembered ?? []) if (!keep.has(server)) map.filledByPackets!.evict.set(clientKey, server)
}

function dispatch(table: NftTable, k: ServiceKey, id: string): void {
  if (k.kind === 'fwmark') table.maps.get('fwmarks')!.elements.set(String(k.mark), `jump ${id}`)
  else table.maps.get('services')!.elements.set(`${normalizeAddress(k.address)} . ${k.protocol.toLowerCase()} . ${k.port}`, `jump ${id}`)
}
