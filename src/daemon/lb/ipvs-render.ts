import ipaddr from 'ipaddr.js'
import type {LbKind, ServiceKey, VirtualService} from './types.js'

/**
 * The IPVS data plane as `ipvsadm --restore` lines (pure): parse what `ipvsadm -S -n` prints,
 * render what is desired in the same form, and diff the two into -A/-E/-D (services) and
 * -a/-e/-d (destinations). Every lb_algo and lb_kind maps straight onto ipvsadm's options.
 */

export interface IpvsService {
  /** "-t 198.18.0.10:80", "-u [fd00::1]:53", "--sctp-service ...", "-f 5" or "-f 5 -6". */
  service: string
  /** "-s wrr [-p 300 [-M 255.255.255.0]]". */
  options: string
  /** "198.18.1.1:80" -> "-m -w 1". */
  destinations: Map<string, string>
}

const forwardFlag: Record<LbKind, string> = {NAT: '-m', DR: '-g', TUN: '-i'}

function hostPort(address: string, port: number): string {
  const a = ipaddr.process(address)
  return a.kind() === 'ipv6' ? `[${a.toString()}]:${port}` : `${a.toString()}:${port}`
}

export function serviceArg(k: ServiceKey): string {
  if (k.kind === 'fwmark') return k.family === 'ipv6' ? `-f ${k.mark} -6` : `-f ${k.mark}`
  const flag = k.protocol === 'TCP' ? '-t' : k.protocol === 'UDP' ? '-u' : '--sctp-service'
  return `${flag} ${hostPort(k.address, k.port)}`
}

export function renderIpvs(services: readonly VirtualService[]): Map<string, IpvsService> {
  const out = new Map<string, IpvsService>()
  for (const vs of services) {
    const service = serviceArg(vs.key)
    let options = `-s ${vs.algo}`
    if (vs.persistenceTimeoutS) {
      options += ` -p ${vs.persistenceTimeoutS}`
      const bits = vs.key.family === 'ipv4' ? 32 : 128
      if (vs.persistencePrefix !== undefined && vs.persistencePrefix < bits) {
        // ipvsadm takes a dotted netmask for IPv4 and a prefix length for IPv6.
        options += vs.key.family === 'ipv4' ? ` -M ${ipaddr.IPv4.subnetMaskFromPrefixLength(vs.persistencePrefix).toString()}` : ` -M ${vs.persistencePrefix}`
      }
    }
    const destinations = new Map<string, string>()
    for (const d of vs.destinations) destinations.set(hostPort(d.address, d.port), `${forwardFlag[vs.kind]} -w ${d.weight}`)
    out.set(service, {service, options, destinations})
  }
  return out
}

/** Parses `ipvsadm -S -n` (the same syntax --restore reads). */
export function parseIpvsSave(text: string): Map<string, IpvsService> {
  const out = new Map<string, IpvsService>()
  for (const raw of text.split('\n')) {
    const words = raw.trim().split(/\s+/).filter(Boolean)
    if (words.length < 3) continue
    const [cmd, flag, addr] = words as [string, string, string]
    const six = words.includes('-6') && flag === '-f'
    const service = `${flag} ${addr}${six ? ' -6' : ''}`
    const rest = words.slice(3).filter((w) => w !== '-6')
    if (cmd === '-A') {
      out.set(service, {service, options: pick(rest, ['-s', '-p', '-M']), destinations: out.get(service)?.destinations ?? new Map()})
    } else if (cmd === '-a') {
      const r = rest.indexOf('-r')
      if (r < 0 || !rest[r + 1]) continue
      const dest = rest[r + 1]!
      const fwd = ['-m', '-g', '-i'].find((f) => rest.includes(f)) ?? '-g'
      const w = rest.indexOf('-w')
      const weight = w >= 0 ? rest[w + 1] : '1'
      const s = out.get(service) ?? {service, options: '', destinations: new Map<string, string>()}
      s.destinations.set(dest, `${fwd} -w ${weight}`)
      out.set(service, s)
    }
  }
  return out
}

/** Options in a canonical order so the parsed and rendered forms compare equal. */
function pick(words: readonly string[], flags: readonly string[]): string {
  const parts: string[] = []
  for (const f of flags) {
    const i = words.indexOf(f)
    if (i >= 0 && words[i + 1] !== undefined) {
      // ipvsadm -S prints the default /32 netmask explicitly; it is not a difference.
      if (f === '-M' && (words[i + 1] === '255.255.255.255' || words[i + 1] === '128')) continue
      parts.push(`${f} ${words[i + 1]}`)
    }
  }
  return parts.join(' ')
}

/** The restore lines from current to desired, touching only what differs. */
export function diffIpvs(current: ReadonlyMap<string, IpvsService>, desired: ReadonlyMap<string, IpvsService>): string[] {
  const lines: string[] = []
  for (const [key, want] of desired) {
    const have = current.get(key)
    if (!have) lines.push(`-A ${key} ${want.options}`)
    else if (have.options !== want.options) lines.push(`-E ${key} ${want.options}`)
    for (const [dest, opts] of want.destinations) {
      const had = have?.destinations.get(dest)
      if (had === undefined) lines.push(`-a ${key} -r ${dest} ${opts}`)
      else if (had !== opts) lines.push(`-e ${key} -r ${dest} ${opts}`)
    }
    for (const dest of have?.destinations.keys() ?? []) if (!want.destinations.has(dest)) lines.push(`-d ${key} -r ${dest}`)
  }
  for (const key of current.keys()) if (!desired.has(key)) lines.push(`-D ${key}`)
  return lines
}
