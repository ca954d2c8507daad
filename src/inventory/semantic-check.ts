import ipaddr from 'ipaddr.js'
import type {HealthCheck, InventoryDoc} from '../model/inventory.js'
import {hostPart, isIPv6, serviceAddress, serviceVip, vipInterface, vipPriorities} from './derive.js'
import type {KeyPath} from './yaml-source.js'

/** A semantic problem before it is placed in the file. */
export interface SemanticIssue {
  path: KeyPath
  message: string
  key?: boolean
}

const PRIORITY_MIN = 1
const PRIORITY_MAX = 254
/** keepalived keeps only the first 8 characters of a PASS secret: a longer one would silently differ. */
const PASS_MAX = 8

function parseCidr(s: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    if (s.includes('/')) return ipaddr.parseCIDR(s)
    const a = ipaddr.parse(s)
    return [a, a.kind() === 'ipv4' ? 32 : 128]
  } catch {
    return undefined
  }
}

function inSubnet(addr: string, cidr: string): boolean {
  const a = parseCidr(hostPart(addr))
  const n = parseCidr(cidr)
  if (!a || !n || a[0].kind() !== n[0].kind()) return false
  return a[0].match(n)
}

function networkOf(cidr: string): string | undefined {
  const c = parseCidr(cidr)
  if (!c) return undefined
  const net = c[0].kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr)
  return `${net.toNormalizedString()}/${c[1]}`
}

/**
 * Every check the schema cannot express, each with its own message. The inventory has passed
 * the schema, so shapes are trusted; every reference, number range across fields and clash
 * between entries is checked here.
 */
export function semanticIssues(inv: InventoryDoc): SemanticIssue[] {
  const out: SemanticIssue[] = []
  const add = (path: KeyPath, message: string, key?: boolean) => out.push({path, message, key})

  // Addresses the pattern let through but that are not addresses (999.1.1.1, 10.0.0.1/40).
  const checkIp = (path: KeyPath, value: string | undefined, withPrefix: boolean) => {
    if (value === undefined) return
    const ok = withPrefix ? parseCidr(value) !== undefined : ipaddr.isValid(value)
    if (!ok) add(path, `"${value}" is not a valid IP address${withPrefix ? ' (with optional /prefix)' : ''}`)
  }

  if (inv.ssh.host !== undefined) add(['ssh', 'host'], 'ssh.host sends every host to one address; set it on a single host instead', true)

  // Host names share one namespace: they become netns, directory and message names.
  const hostSeen = new Map<string, string>()
  const lists = [
    ['directors', inv.directors],
    ['realServers', inv.realServers],
    ['probes', inv.probes],
  ] as const
  for (const [list, hosts] of lists) {
    hosts.forEach((h, i) => {
      checkIp([list, i, 'address'], h.address, true)
      const prev = hostSeen.get(h.name)
      if (prev) add([list, i, 'name'], `duplicate host name "${h.name}" (already used at ${prev})`)
      else hostSeen.set(h.name, `${list}[${i}]`)
    })
  }
  const addrSeen = new Map<string, string>()
  for (const [list, hosts] of lists) {
    hosts.forEach((h, i) => {
      const a = hostPart(h.address)
      const prev = addrSeen.get(a)
      if (prev) add([list, i, 'address'], `address ${a} is already used by ${prev}`)
      else addrSeen.set(a, h.name)
    })
  }

  const directors = new Map(inv.directors.map((d) => [d.name, d]))
  const vipNames = new Map<string, number>()
  // segment (network/prefix or interface) + family + vrid -> first VIP
  const vridSeen = new Map<string, string>()

  inv.vips.forEach((vip, vi) => {
    const at = (...rest: Array<string | number>): KeyPath => ['vips', vi, ...rest]
    if (vipNames.has(vip.name)) add(at('name'), `duplicate VIP name "${vip.name}"`)
    else vipNames.set(vip.name, vi)

    vip.addresses.forEach((a, ai) => {
      checkIp(at('addresses', ai, 'address'), a.address, true)
      checkIp(at('addresses', ai, 'brd'), a.brd, false)
      if (vip.version === 2 && isIPv6(a.address)) add(at('addresses', ai), `VRRP version 2 carries IPv4 only; use version: 3 for ${a.address}`)
    })

    // Who takes part, and with which priority.
    if (vip.priorities && vip.directors) add(at('directors'), 'give either priorities or directors, not both', true)
    else if (!vip.priorities && !vip.directors) add(at(), `VIP ${vip.name} needs priorities ({director: priority}) or an ordered directors list`)
    const byPriority = new Map<number, string>()
    if (vip.priorities) {
      for (const [d, p] of Object.entries(vip.priorities)) {
        if (!directors.has(d)) add(at('priorities', d), `unknown director "${d}" in the priorities of ${vip.name}`, true)
        if (p < PRIORITY_MIN || p > PRIORITY_MAX) add(at('priorities', d), `priority ${p} for ${d} is outside ${PRIORITY_MIN}..${PRIORITY_MAX} (255 is reserved for the address owner)`)
        const other = byPriority.get(p)
        if (other !== undefined) add(at('priorities', d), `directors ${other} and ${d} both have priority ${p} for ${vip.name}: the master would be decided by address, not by you`)
        else byPriority.set(p, d)
      }
    }
    if (vip.directors) {
      const seen = new Set<string>()
      vip.directors.forEach((d, i) => {
        if (!directors.has(d)) add(at('directors', i), `unknown director "${d}" in the directors of ${vip.name}`)
        if (seen.has(d)) add(at('directors', i), `director ${d} is listed twice for ${vip.name}`)
        seen.add(d)
      })
    }

    // What the advert interval field can carry: v2 whole seconds (8 bits), v3 centiseconds (12 bits).
    const adv = vip.advertInterval
    if (vip.version === 2 && (!Number.isInteger(adv) || adv < 1 || adv > 255)) {
      add(at('advertInterval'), `advert interval ${adv} cannot be carried by VRRP version 2 (whole seconds 1..255); use version: 3 for sub-second intervals`)
    }
    if (vip.version === 3 && (adv < 0.01 || adv > 40.95 || Math.abs(Math.round(adv * 100) - adv * 100) > 1e-6)) {
      add(at('advertInterval'), `advert interval ${adv} cannot be carried by VRRP version 3 (0.01..40.95 seconds, in hundredths)`)
    }

    if (vip.authentication) {
      if (vip.version === 3) add(at('authentication'), 'VRRP version 3 has no authentication (RFC 5798); remove it or use version: 2', true)
      const ref = vip.authentication.secret
      if ((ref.env === undefined) === (ref.file === undefined)) add(at('authentication', 'secret'), 'a secret reference needs exactly one of env or file')
    }
    if (!vip.preempt && vip.preemptDelay !== undefined) add(at('preemptDelay'), 'preemptDelay has no effect with nopreempt', true)

    // Segment checks need each participating director's interface and subnet.
    for (const [dname] of vipPriorities(vip)) {
      const d = directors.get(dname)
      if (!d) continue
      const iface = vipInterface(vip, d)
      // A VIP with a prefix on lo makes its whole subnet local to the director: SSH and every
      // peer on that subnet become unreachable from it, and kaops could not even roll it back.
      if (iface === 'lo') {
        add(at(vip.interface === 'lo' ? 'interface' : 'name'), `${d.name} would run ${vip.name} on lo: VRRP needs the director's network interface (loopback carries no adverts)`)
        continue
      }
      if (iface === d.interface) {
        vip.addresses.forEach((a, ai) => {
          if (a.dev !== undefined && a.dev !== iface) return
          const dnet = parseCidr(d.address)
          if (!dnet || !parseCidr(a.address) || isIPv6(a.address) !== isIPv6(d.address)) return
          if (!inSubnet(a.address, d.address)) {
            add(at('addresses', ai), `VIP address ${hostPart(a.address)} is outside ${networkOf(d.address)}, the subnet of ${d.name}'s interface ${iface}`)
          }
        })
      }
    }
    const segments = new Set<string>()
    for (const [dname] of vipPriorities(vip)) {
      const d = directors.get(dname)
      if (!d) continue
      const iface = vipInterface(vip, d)
      segments.add(iface === d.interface ? `net ${networkOf(d.address)}` : `if ${d.name}/${iface}`)
    }
    const family = vip.addresses.some((a) => isIPv6(a.address)) ? 6 : 4
    for (const seg of [...segments].sort()) {
      const k = `${seg} v${family} vrid ${vip.vrid}`
      const prev = vridSeen.get(k)
      if (prev !== undefined && prev !== vip.name) {
        add(at('vrid'), `VRID ${vip.vrid} is already used by ${prev} on the same segment (${seg.replace(/^net |^if /, '')}): the routers would fight over one virtual MAC`)
        break
      }
      vridSeen.set(k, vip.name)
    }

    vip.trackInterfaces.forEach((t, i) => {
      if (vip.trackInterfaces.indexOf(t) !== i) add(at('trackInterfaces', i), `interface ${t} is tracked twice`)
      const own = vipPriorities(vip).find(([dn]) => directors.has(dn) && vipInterface(vip, directors.get(dn)!) === t)
      if (own) add(at('trackInterfaces', i), `${t} is ${own[0]}'s VRRP interface for ${vip.name}, which is always tracked; list only other interfaces`)
    })
  })

  // Track scripts: names are global in keepalived.conf, so one name means one definition.
  const scripts = new Map<string, string>()
  inv.vips.forEach((vip, vi) =>
    vip.trackScripts.forEach((s, si) => {
      if (s.name === undefined) return
      const def = JSON.stringify({...s, name: undefined})
      const prev = scripts.get(s.name)
      if (prev !== undefined && prev !== def) add(['vips', vi, 'trackScripts', si, 'name'], `track script "${s.name}" is defined twice with different settings`)
      scripts.set(s.name, def)
    }),
  )

  // Sync groups: notify hooks for a group no VIP joins are a typo.
  const groupsUsed = new Set(inv.vips.map((v) => v.syncGroup).filter((g): g is string => g !== undefined))
  inv.syncGroups.forEach((g, gi) => {
    if (!groupsUsed.has(g.name)) add(['syncGroups', gi, 'name'], `sync group "${g.name}" has no member: no VIP says syncGroup: ${g.name}`)
  })

  // Services.
  const realServers = new Map(inv.realServers.map((r) => [r.name, r]))
  const serviceNames = new Set<string>()
  const endpoints = new Map<string, string>()
  inv.services.forEach((s, si) => {
    const at = (...rest: Array<string | number>): KeyPath => ['services', si, ...rest]
    if (serviceNames.has(s.name)) add(at('name'), `duplicate service name "${s.name}"`)
    serviceNames.add(s.name)
    checkIp(at('address'), s.address, false)
    checkIp(at('sorryServer', 'address'), s.sorryServer?.address, false)
    const vip = serviceVip(inv, s)
    if (s.vip !== undefined && !vip) add(at('vip'), `service ${s.name} names VIP "${s.vip}", which is not defined under vips`)
    else if (s.vip === undefined && s.address === undefined) add(at(), `service ${s.name} needs a vip or an address`)
    else if (!vip) add(at('address'), `service address ${s.address} is on no VIP, so no director would hold it`)
    else if (s.address !== undefined && !vip.addresses.some((a) => hostPart(a.address) === s.address || parseCidr(hostPart(a.address))?.[0].toNormalizedString() === parseCidr(s.address!)?.[0].toNormalizedString())) {
      add(at('address'), `service address ${s.address} is not one of ${vip.name}'s addresses (${vip.addresses.map((a) => hostPart(a.address)).join(', ')})`)
    }
    const addr = serviceAddress(inv, s)
    if (addr !== undefined) {
      const k = `${addr} ${s.port} ${s.protocol}`
      const prev = endpoints.get(k)
      if (prev !== undefined) add(at('port'), `services ${prev} and ${s.name} both balance ${addr}:${s.port}/${s.protocol}`)
      else endpoints.set(k, s.name)
    }
    if (s.persistence?.granularity !== undefined && s.persistence.granularity.includes(':')) add(at('persistence', 'granularity'), 'granularity is an IPv4 netmask, e.g. 255.255.255.0')
    if (s.hysteresis !== undefined && s.quorum === undefined) add(at('hysteresis'), 'hysteresis needs a quorum', true)
    if (s.quorum !== undefined && s.quorum > s.realServers.reduce((n, r) => n + r.weight, 0)) {
      add(at('quorum'), `quorum ${s.quorum} is more than the total weight of the real servers: the service could never be up`)
    }
    const rsSeen = new Set<string>()
    s.realServers.forEach((r, ri) => {
      if (!realServers.has(r.name)) add(at('realServers', ri, 'name'), `real server "${r.name}" is not defined under realServers`)
      const k = `${r.name}:${r.port ?? s.port}`
      if (rsSeen.has(k)) add(at('realServers', ri), `real server ${k} is listed twice in ${s.name}`)
      rsSeen.add(k)
      if (r.healthCheck) checkHealth(r.healthCheck, at('realServers', ri, 'healthCheck'), add)
    })
    if (s.healthCheck) checkHealth(s.healthCheck, at('healthCheck'), add)
  })
  return out
}

function checkHealth(h: HealthCheck, path: KeyPath, add: (path: KeyPath, message: string, key?: boolean) => void): void {
  if (h.type === 'MISC_CHECK' && h.script === undefined) add(path, 'a MISC_CHECK needs a script')
  if (h.type !== 'MISC_CHECK' && h.script !== undefined) add([...path, 'script'], `script only applies to MISC_CHECK, not ${h.type}`, true)
  if ((h.type === 'HTTP_GET' || h.type === 'SSL_GET') && h.path === undefined) add(path, `a ${h.type} check needs a path (and a statusCode or digest)`)
  if ((h.type === 'HTTP_GET' || h.type === 'SSL_GET') && h.path !== undefined && h.statusCode === undefined && h.digest === undefined) {
    add(path, `a ${h.type} check needs a statusCode or a digest to compare against`)
  }
  if (h.type !== 'HTTP_GET' && h.type !== 'SSL_GET') {
    for (const k of ['path', 'statusCode', 'digest', 'virtualhost'] as const) if (h[k] !== undefined) add([...path, k], `${k} only applies to HTTP_GET and SSL_GET, not ${h.type}`, true)
  }
}

/** Secrets are checked separately (they need the environment); PASS length is a semantic rule. */
export const PASS_SECRET_MAX = PASS_MAX
