import type {SshTarget} from '../model/desired-state.js'
import {RemoteHost, type ConnectOptions} from '../remote/connection.js'
import {mapSettledLimit} from '../remote/parallel.js'
import {SCRIPT_PRELUDE} from '../remote/state-probe.js'
import {shq} from '../remote/shell-quote.js'
import type {ConfigReaderHost} from './from-hosts.js'
import type {ImportResult} from './map-inventory.js'

/**
 * `kaops import --host` reads the LVS-DR real servers too: a real server already prepared as the
 * seeds do it (every VIP of its DR services on lo, ARP answered only for addresses on the asking
 * interface and announced from the best local address) is imported with `prepare: true`, so kaops
 * takes over exactly what is there. Anything else stays `prepare: false`, with a warning saying
 * what is missing or why the host could not be read. The import never fails because of them.
 *
 * The probe's output (one round trip, read without privileges), one record per line:
 *   KAOPS-RS 1
 *   S <interface> <arp_ignore> <arp_announce>   from /proc/sys/net/ipv4/conf/<interface>/
 *   L <a line of `ip -o addr show dev lo`>
 *   LERR                                        `ip` failed or is missing
 *   END
 */

/** What one DR real server must carry: its name in the inventory, SSH host, VIPs of its DR services. */
export interface DrRealServer {
  name: string
  host: string
  /** Host addresses (no prefix) of the DR services it serves, sorted. */
  vips: string[]
}

export interface RealServerProbe {
  /** Addresses on lo as `address/prefix`. */
  loAddresses: string[]
  /** Per interface (including `all`, `default`, `lo`) the arp_ignore and arp_announce in /proc/sys. */
  arp: Record<string, {ignore: number; announce: number}>
  /** `ip -o addr show dev lo` failed. */
  loUnreadable: boolean
}

export interface RealServerVerdict {
  prepared: boolean
  /** What keeps it from being prepared, one phrase each; empty when prepared. */
  missing: string[]
}

/** One probed real server: its output, or why there is none (unreachable, host key unknown). */
export type RealServerOutcome = {server: DrRealServer; probe: RealServerProbe} | {server: DrRealServer; error: string}

/** The host kaops logs in to; RemoteHost, or a fake in tests. */
export interface RealServerHost extends ConfigReaderHost {
  close(): void
}

const MARKER = 'KAOPS-RS 1'

/** The probe script. Reading /proc/sys and the addresses needs no root, so no sudo either. */
export function realServerProbeScript(): string {
  return [
    ...SCRIPT_PRELUDE,
    `echo ${shq(MARKER)}`,
    'for d in /proc/sys/net/ipv4/conf/*/; do',
    '  i=${d%/}; i=${i##*/}',
    '  g=$(cat "$d/arp_ignore" 2>/dev/null) || g=-',
    '  a=$(cat "$d/arp_announce" 2>/dev/null) || a=-',
    '  echo "S $i ${g:--} ${a:--}"',
    'done',
    'if o=$(ip -o addr show dev lo 2>/dev/null); then printf \'%s\\n\' "$o" | sed \'s/^/L /\'; else echo LERR; fi',
    'echo END',
    '',
  ].join('\n')
}

/** The probe's output to what it says; throws on output that is not a whole probe report. Pure. */
export function parseRealServerProbe(stdout: string): RealServerProbe {
  const lines = stdout.split('\n')
  if (lines[0] !== MARKER) throw new Error(`not a kaops real-server probe report (got ${JSON.stringify(lines[0]?.slice(0, 40))})`)
  if (!lines.includes('END')) throw new Error('the probe report is cut short (no END line)')
  const out: RealServerProbe = {loAddresses: [], arp: {}, loUnreadable: false}
  for (const line of lines.slice(1)) {
    if (line === 'END') break
    if (line === 'LERR') out.loUnreadable = true
    else if (line.startsWith('S ')) {
      const [, iface, ignore, announce] = line.split(' ')
      const g = Number(ignore)
      const a = Number(announce)
      if (iface && Number.isInteger(g) && Number.isInteger(a)) out.arp[iface] = {ignore: g, announce: a}
    } else if (line.startsWith('L ')) {
      // `N: IFNAME inet ADDR/PREFIX ...`: only lo's own addresses count (a VIP on eth0 is not DR).
      const m = /^L \d+:\s+(\S+)\s+inet6?\s+(\S+)/.exec(line)
      if (m && m[1] === 'lo') out.loAddresses.push(m[2]!)
    }
  }
  return out
}

// arp_ignore 1 (or 2): answer ARP only for addresses on the interface the request came in on,
// so a VIP on lo is never answered; arp_announce 2: never use the VIP as the source of an ARP
// request. These are what kaops itself sets when it prepares a real server.
const QUIET_IGNORE = new Set([1, 2])
const ANNOUNCE_BEST = 2

/**
 * Whether a real server is prepared for LVS-DR as the seeds do it. The kernel applies the larger
 * of conf/all and conf/<interface> for both settings, and the ARP requests come in on the real
 * interfaces, not lo: so the value that counts is max(all, interface) on each interface but lo.
 * Pure.
 */
export function judgeRealServer(vips: string[], probe: RealServerProbe): RealServerVerdict {
  const missing: string[] = []
  const onLo = new Set(probe.loAddresses.map((a) => a.split('/')[0]))
  if (probe.loUnreadable) missing.push('the addresses on lo could not be read (ip -o addr show dev lo failed)')
  else for (const v of vips) if (!onLo.has(v)) missing.push(`VIP ${v} is not on lo`)
  const all = probe.arp.all
  if (!all) {
    missing.push('net.ipv4.conf.all.arp_ignore/arp_announce could not be read')
    return {prepared: false, missing}
  }
  const ifaces = Object.keys(probe.arp).filter((i) => !['all', 'default', 'lo'].includes(i)).sort()
  const scopes = ifaces.length > 0 ? ifaces : ['all']
  const loud = scopes.filter((i) => !QUIET_IGNORE.has(Math.max(all.ignore, probe.arp[i]?.ignore ?? 0)))
  const announcing = scopes.filter((i) => Math.max(all.announce, probe.arp[i]?.announce ?? 0) !== ANNOUNCE_BEST)
  const shown = (names: string[], key: 'ignore' | 'announce') => names.map((i) => (i === 'all' ? `all ${all[key]}` : `${i} ${Math.max(all[key], probe.arp[i]![key])}`)).join(', ')
  if (loud.length > 0) missing.push(`arp_ignore in effect is not 1 (${shown(loud, 'ignore')}; net.ipv4.conf.all.arp_ignore is ${all.ignore}): it answers ARP for the VIP and can take the VIP's traffic from the director`)
  if (announcing.length > 0) missing.push(`arp_announce in effect is not 2 (${shown(announcing, 'announce')}; net.ipv4.conf.all.arp_announce is ${all.announce})`)
  return {prepared: missing.length === 0, missing}
}

const hostPart = (cidr: string): string => cidr.split('/')[0]!

/** The real servers of the imported inventory that serve at least one DR service, with those VIPs. Pure. */
export function drRealServers(inventory: Record<string, unknown>): DrRealServer[] {
  const services = (inventory.services ?? []) as Array<{address?: string; forwarding?: string; realServers?: Array<{name: string}>}>
  const servers = (inventory.realServers ?? []) as Array<{name: string; address: string}>
  const out: DrRealServer[] = []
  for (const r of servers) {
    const vips = new Set<string>()
    for (const s of services) if (s.forwarding === 'DR' && s.address && s.realServers?.some((x) => x.name === r.name)) vips.add(s.address)
    if (vips.size > 0) out.push({name: r.name, host: hostPart(r.address), vips: [...vips].sort()})
  }
  return out
}

export const PREPARE_FALSE_NOTE = 'real servers are imported with prepare: false'

/**
 * Fold the probes into the import result: prepared ones get `prepare: true` and a note, the rest
 * keep `prepare: false` with a warning naming the host and what is missing. Pure (edits `result`).
 */
export function applyRealServerOutcomes(result: ImportResult, outcomes: RealServerOutcome[]): void {
  const servers = (result.inventory.realServers ?? []) as Array<{name: string; address: string; prepare?: boolean}>
  const where = (s: DrRealServer) => `real server ${s.name} (${s.host})`
  const prepared: string[] = []
  for (const o of outcomes) {
    const entry = servers.find((r) => r.name === o.server.name)
    if (!entry) continue
    if ('error' in o) {
      result.warnings.push({where: where(o.server), message: `not read (${o.error}); imported with prepare: false`})
      continue
    }
    const v = judgeRealServer(o.server.vips, o.probe)
    if (v.prepared) {
      entry.prepare = true
      prepared.push(o.server.name)
      result.notes.push(`${where(o.server)} is already prepared for LVS-DR (${o.server.vips.join(', ')} on lo, ARP for them neither answered nor announced): imported with prepare: true, so kaops now manages those settings; the first apply writes them down without changing how the host treats the VIPs`)
    } else {
      result.warnings.push({where: where(o.server), message: `not prepared for LVS-DR: ${v.missing.join('; ')}; imported with prepare: false (fix it by hand, or set prepare: true and let kaops apply it)`})
    }
  }
  // The mapper's general note says every real server is prepare: false; now name those that are.
  const left = servers.filter((r) => !r.prepare).map((r) => r.name)
  const i = result.notes.findIndex((n) => n.startsWith(PREPARE_FALSE_NOTE))
  if (i >= 0) {
    if (left.length === 0) result.notes.splice(i, 1)
    else if (prepared.length > 0) result.notes[i] = `real servers ${left.join(', ')} are imported with prepare: false (kaops leaves them as they are); set prepare: true to let kaops manage their sysctl and loopback VIP`
  }
}

export interface RealServerReadOptions {
  user?: string
  port?: number
  identityFile?: string
  knownHosts?: string
  connect?: ConnectOptions
  /** How kaops logs in; tests hand a fake. Default: RemoteHost.connect (strict host keys). */
  connectHost?: (target: SshTarget, opts: ConnectOptions) => Promise<RealServerHost>
  /** Real servers read at once. Default 8. */
  parallel?: number
}

/** Log in to each DR real server with the directors' SSH settings and read its state. Never throws for one host. */
export async function readRealServers(servers: DrRealServer[], opts: RealServerReadOptions = {}): Promise<RealServerOutcome[]> {
  const connect = opts.connectHost ?? ((t, o) => RemoteHost.connect(t, o))
  const script = realServerProbeScript()
  const settled = await mapSettledLimit(servers, opts.parallel ?? 8, async (server) => {
    const user = opts.user ?? 'root'
    const target: SshTarget = {name: server.name, host: server.host, port: opts.port ?? 22, user, knownHosts: opts.knownHosts ?? '~/.ssh/known_hosts', sudo: user !== 'root'}
    if (opts.identityFile) target.identityFile = opts.identityFile
    const remote = await connect(target, opts.connect ?? {})
    try {
      const r = await remote.exec(`sh -c ${shq(script)}`, {privileged: false, timeoutMs: 20_000})
      if (r.code !== 0) throw new Error(`the probe exited ${r.code}: ${r.stderr.trim().slice(0, 200)}`)
      return parseRealServerProbe(r.stdout)
    } finally {
      remote.close()
    }
  })
  return settled.map((s, i) => (s.status === 'fulfilled' ? {server: servers[i]!, probe: s.value} : {server: servers[i]!, error: (s.reason as Error).message ?? String(s.reason)}))
}
