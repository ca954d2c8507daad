import type {Director, FirewallFlavour, Inventory} from '../model/inventory.js'
import type {ManagedFile} from '../model/desired-state.js'
import {hostPart, isIPv6, vipDirectors, vipInterface, vipPriorities} from '../inventory/derive.js'
import {
  FIREWALL_UNIT,
  FIREWALL_UNIT_PATH,
  FIREWALLD_DIRECT_PATH,
  IP6TABLES_RULES_PATH,
  IPTABLES_CHAIN_IN,
  IPTABLES_CHAIN_OUT,
  IPTABLES_RULES_PATH,
  KAOPSD_UNIT,
  MANAGED_HEADER,
  NFT_RULES_PATH,
  NFT_TABLE,
} from './paths.js'
import {renderTemplate} from './templates.js'

const VRRP_PROTO = 112
const AH_PROTO = 51
const VRRP_GROUP_V4 = '224.0.0.18'
const VRRP_GROUP_V6 = 'ff02::12'

/** One VRRP flow this director must let through: in from a peer or group, out to it. */
export interface VrrpFlow {
  dir: 'in' | 'out'
  iface: string
  family: 4 | 6
  /** Multicast: the group (a destination either way). Unicast: the peer (source in, destination out). */
  addr: string
  unicast: boolean
}

export function vrrpFlows(inv: Inventory, director: Director): {flows: VrrpFlow[]; ah: boolean} {
  const seen = new Map<string, VrrpFlow>()
  let ah = false
  for (const v of inv.vips) {
    if (!vipPriorities(v).some(([d]) => d === director.name)) continue
    if (v.authentication?.type === 'AH') ah = true
    const iface = vipInterface(v, director)
    const family: 4 | 6 = v.addresses.some((a) => isIPv6(a.address)) ? 6 : 4
    const targets = v.unicast
      ? vipDirectors(inv, v)
          .filter((d) => d.name !== director.name)
          .map((d) => hostPart(d.address))
      : [family === 6 ? VRRP_GROUP_V6 : VRRP_GROUP_V4]
    for (const addr of targets)
      for (const dir of ['in', 'out'] as const) {
        const f: VrrpFlow = {dir, iface, family, addr, unicast: v.unicast}
        seen.set(JSON.stringify(f), f)
      }
  }
  const flows = [...seen.values()].sort((a, b) => a.dir.localeCompare(b.dir) || a.iface.localeCompare(b.iface) || a.family - b.family || a.addr.localeCompare(b.addr))
  return {flows, ah}
}

function nftMatch(f: VrrpFlow, ah: boolean): string {
  const ifm = f.dir === 'in' ? `iifname "${f.iface}"` : `oifname "${f.iface}"`
  const fam = f.family === 4 ? 'ip' : 'ip6'
  const side = f.unicast && f.dir === 'in' ? 'saddr' : 'daddr'
  const proto = ah ? `{ ${AH_PROTO}, ${VRRP_PROTO} }` : String(VRRP_PROTO)
  const protoMatch = f.family === 4 ? `ip protocol ${proto}` : `meta l4proto ${proto}`
  return `${ifm} ${fam} ${side} ${f.addr} ${protoMatch}`
}

function iptablesArgs(f: VrrpFlow, proto: number): string {
  const ifm = f.dir === 'in' ? `-i ${f.iface}` : `-o ${f.iface}`
  const side = f.unicast && f.dir === 'in' ? '-s' : '-d'
  return `${ifm} ${side} ${f.addr} -p ${proto}`
}

/** `auto` means nftables: what current Debian and RHEL ship. A host on firewalld says so in the inventory. */
export function firewallFlavour(inv: Inventory, director: Director): Exclude<FirewallFlavour, 'auto'> {
  const f = director.firewall ?? inv.hostSetup.firewall
  return f === 'auto' ? 'nftables' : f
}

export function firewallFiles(inv: Inventory, director: Director): {files: ManagedFile[]; units: string[]} {
  const flavour = firewallFlavour(inv, director)
  const {flows, ah} = vrrpFlows(inv, director)
  if (flavour === 'none' || flows.length === 0) return {files: [], units: []}
  const protos = ah ? [AH_PROTO, VRRP_PROTO] : [VRRP_PROTO]
  const header = MANAGED_HEADER
  if (flavour === 'nftables') {
    const content = renderTemplate('kaops-vrrp.nft', {
      header,
      host: director.name,
      ah,
      table: NFT_TABLE,
      input: flows.filter((f) => f.dir === 'in').map((f) => nftMatch(f, ah)),
      output: flows.filter((f) => f.dir === 'out').map((f) => nftMatch(f, ah)),
    })
    const unit = renderTemplate('kaops-vrrp-firewall.service', {
      header,
      flavour,
      kaopsdUnit: KAOPSD_UNIT,
      start: [`/usr/sbin/nft -f ${NFT_RULES_PATH}`],
      stop: [`/usr/sbin/nft delete table inet ${NFT_TABLE}`],
    })
    return {
      files: [
        {path: NFT_RULES_PATH, content, mode: 0o644},
        {path: FIREWALL_UNIT_PATH, content: unit, mode: 0o644},
      ],
      units: [FIREWALL_UNIT],
    }
  }
  if (flavour === 'firewalld') {
    const rules = flows.flatMap((f) =>
      protos.map((p) => ({ipv: f.family === 4 ? 'ipv4' : 'ipv6', chain: f.dir === 'in' ? 'INPUT' : 'OUTPUT', args: `${iptablesArgs(f, p)} -j ACCEPT`})),
    )
    return {files: [{path: FIREWALLD_DIRECT_PATH, content: renderTemplate('firewalld-direct.xml', {header, host: director.name, ah, rules}), mode: 0o644}], units: []}
  }
  // iptables: one restore fragment per family, loaded with --noflush by the unit.
  const files: ManagedFile[] = []
  const start: string[] = []
  const stop: string[] = []
  for (const family of [4, 6] as const) {
    const fl = flows.filter((f) => f.family === family)
    if (fl.length === 0) continue
    const path = family === 4 ? IPTABLES_RULES_PATH : IP6TABLES_RULES_PATH
    const bin = family === 4 ? '/sbin/iptables' : '/sbin/ip6tables'
    const restore = `${bin}-restore`
    files.push({
      path,
      mode: 0o644,
      content: renderTemplate('iptables.rules', {
        header,
        host: director.name,
        ah,
        restore,
        unit: FIREWALL_UNIT,
        chainIn: IPTABLES_CHAIN_IN,
        chainOut: IPTABLES_CHAIN_OUT,
        input: fl.filter((f) => f.dir === 'in').flatMap((f) => protos.map((p) => iptablesArgs(f, p))),
        output: fl.filter((f) => f.dir === 'out').flatMap((f) => protos.map((p) => iptablesArgs(f, p))),
      }),
    })
    start.push(`${restore} --noflush ${path}`)
    for (const [chain, hook] of [
      [IPTABLES_CHAIN_IN, 'INPUT'],
      [IPTABLES_CHAIN_OUT, 'OUTPUT'],
    ] as const) {
      start.push(`/bin/sh -c '${bin} -C ${hook} -j ${chain} 2>/dev/null || ${bin} -I ${hook} -j ${chain}'`)
      stop.push(`${bin} -D ${hook} -j ${chain}`)
    }
  }
  files.push({path: FIREWALL_UNIT_PATH, mode: 0o644, content: renderTemplate('kaops-vrrp-firewall.service', {header, flavour, kaopsdUnit: KAOPSD_UNIT, start, stop})})
  return {files, units: [FIREWALL_UNIT]}
}
