/**
 * The health gate after each director: read every member of the host's VRRP instances (one
 * round trip each) and decide, purely, whether the cluster is healthy again:
 *  - kaopsd active on the host just changed, answering `kaopsd status --json`;
 *  - its instances converged (none in INIT or FAULT);
 *  - every VIP of those instances held by exactly one director;
 *  - with placement "plan", held by the director the plan expects;
 *  - each of the host's instances in BACKUP hears the director holding its VIPs (its
 *    masterAddress is one of the holder's addresses) and, when the caller passes an earlier
 *    round of the same gate, has counted adverts since. A backup that hears no one stays BACKUP
 *    for only the master-down interval before it takes the VIPs too, so without this the gate
 *    could pass in the seconds between a restart and a split brain.
 */
import type {DesiredHost, DesiredVip} from '../model/desired-state.js'
import type {ActualAddress} from '../model/actual-state.js'
import type {KaopsdStatus, VrrpInstanceStats, VrrpInstanceStatus} from '../model/kaopsd-status.js'
import {parseAddresses} from '../remote/state-probe.js'
import {shq} from '../remote/shell-quote.js'
import {KAOPSD_PATH} from './host-layout.js'

export interface GateObservation {
  host: string
  /** `systemctl is-active` of the kaopsd unit. */
  active: string
  addresses: ActualAddress[]
  status?: KaopsdStatus
  /** Set when the host could not be read at all. */
  error?: string
}

export interface GateVerdict {
  ok: boolean
  problems: string[]
  /** Instance -> directors holding its VIPs now. */
  holders: Record<string, string[]>
}

const ipOf = (cidr: string) => cidr.split('/')[0]!

/** Directors (by name) holding any address of the VIP, on a non-lo interface. */
export function holdersOf(vip: DesiredVip, observations: GateObservation[]): string[] {
  const want = new Set(vip.addresses.map(ipOf))
  return observations.filter((o) => !o.error && o.addresses.some((a) => a.ifname !== 'lo' && want.has(ipOf(a.cidr)))).map((o) => o.host)
}

/**
 * Adverts a backup must count between the gate's first look and now. Two, not one: a reload is
 * signalled (SIGHUP) and may be handled just after the first look, so one advert counted may
 * still have been judged by the old configuration.
 */
export const MIN_ADVERTS_HEARD = 2

/** Drop counters worth naming to an operator whose backup hears no master. */
const DROP_COUNTERS: Array<keyof VrrpInstanceStats> = [
  'auth_failure', 'authtype_mismatch', 'invalid_authtype', 'vrid_err', 'vers_err', 'advert_interval_err',
  'addr_list_err', 'ip_ttl_err', 'unknown_peer_err', 'chk_err', 'packet_len_err',
]

/** One spelling per address: IPv6 compressed and lower case, any zone dropped. */
function canonicalIp(address: string): string {
  const bare = address.split('%')[0]!
  if (!bare.includes(':')) return bare
  try {
    return new URL(`http://[${bare}]`).hostname.slice(1, -1)
  } catch {
    return bare.toLowerCase()
  }
}

/** The addresses a director can send adverts from: its own (not lo), and what it reports as its source. */
function advertSources(o: GateObservation, instance: string): Set<string> {
  const out = new Set(o.addresses.filter((a) => a.ifname !== 'lo').map((a) => canonicalIp(ipOf(a.cidr))))
  const own = o.status?.instances?.find((i) => i.name === instance)
  if (own?.state === 'MASTER' && own.masterAddress) out.add(canonicalIp(own.masterAddress))
  return out
}

/** How to name a director's advert source in a message: what it reports, else its first non-VIP address. */
function describeSource(o: GateObservation, instance: string, vipIps: Set<string>): string {
  const own = o.status?.instances?.find((i) => i.name === instance)
  if (own?.state === 'MASTER' && own.masterAddress) return `${o.host} (${own.masterAddress})`
  const first = o.addresses.find((a) => a.ifname !== 'lo' && !vipIps.has(canonicalIp(ipOf(a.cidr))) && !ipOf(a.cidr).startsWith('fe80:'))
  return first ? `${o.host} (${ipOf(first.cidr)})` : o.host
}

function dropHint(stats: VrrpInstanceStats | undefined): string {
  const counted = DROP_COUNTERS.filter((k) => (stats?.[k] ?? 0) > 0).map((k) => `${k}=${stats![k]}`)
  return counted.length > 0 ? ` (drops counted so far: ${counted.join(', ')})` : ''
}

/**
 * Problems with one BACKUP instance of the subject: it must hear the director holding the VIPs.
 * `earlier` is the same instance at the gate's first look, when the caller has one.
 */
function backupProblems(subject: string, inst: VrrpInstanceStatus, earlier: {pid: number; inst?: VrrpInstanceStatus} | undefined, myPid: number, holder: GateObservation, observations: GateObservation[], vip: DesiredVip): string[] {
  const vipIps = new Set(vip.addresses.map((a) => canonicalIp(ipOf(a))))
  const from = describeSource(holder, inst.name, vipIps)
  const check = 'check auth_pass, VRID and the firewall (VRRP, protocol 112) on both'
  // An absent field (a status from another implementation) is not evidence either way.
  if (inst.masterAddress === undefined) return []
  if (inst.masterAddress === null) {
    return [`${subject}: ${inst.name} is BACKUP but hears no master; adverts from ${from} are not arriving or are dropped${dropHint(inst.stats)} — ${check}`]
  }
  const heard = canonicalIp(inst.masterAddress)
  if (!advertSources(holder, inst.name).has(heard)) {
    const other = observations.find((o) => !o.error && o.host !== holder.host && advertSources(o, inst.name).has(heard))
    const who = other ? `${other.host} (${inst.masterAddress})` : `${inst.masterAddress}, which is not a director of this cluster`
    return [`${subject}: ${inst.name} is BACKUP but hears ${who}, not ${from}, which holds its VIPs — another router uses VRID ${inst.vrid} on ${inst.interface}, or ${holder.host}'s adverts are dropped; check VRIDs and auth_pass`]
  }
  const rcvd = inst.stats?.advert_rcvd
  if (earlier === undefined || typeof rcvd !== 'number') return []
  const before = earlier.pid === myPid ? earlier.inst?.stats?.advert_rcvd : undefined
  // kaopsd restarted since the first look (or the instance is new): its counters start again from 0.
  const counted = typeof before === 'number' && rcvd >= before ? rcvd - before : rcvd
  if (counted >= MIN_ADVERTS_HEARD) return []
  return [`${subject}: ${inst.name} is BACKUP and last heard ${from}, but counted ${counted} advert(s) while the gate watched; they stopped arriving or are dropped${dropHint(inst.stats)} — ${check}`]
}

/**
 * Mid-rollout the plan's master may already run its new priority while the holder still runs its
 * old one: swapping 150/100 for 100/150, the backup (changed first) ties with the master and, as
 * VRRP says, does not preempt on a tie. The holder is then where the configurations running now
 * put it, and the plan's master takes over when the holder's own turn comes. Only when both
 * report their configured priority; once every member runs the plan, the plan's master has the
 * highest and this never excuses it.
 */
function electedByRunningPriorities(v: DesiredVip, holder: string, observations: GateObservation[]): boolean {
  const priority = (host: string) => observations.find((o) => o.host === host)?.status?.instances?.find((i) => i.name === v.instance)?.priority
  const held = priority(holder)
  const planned = priority(v.expectedMaster)
  return typeof held === 'number' && typeof planned === 'number' && held >= planned
}

/**
 * `earlier`: the observations of this gate's first round. Without it the gate cannot tell that
 * adverts are still arriving and checks only whom each backup last heard.
 */
/**
 * `expectedConfigHash`: the configHash kaopsd reports when it runs the release's configuration.
 * Without that check a refused reload passes: the daemon keeps its old instances, which look
 * healthy, and their old priorities even explain where the VIP is.
 */
export function evaluateGate(subject: string, vips: DesiredVip[], observations: GateObservation[], placement: 'plan' | 'any', earlier?: GateObservation[], expectedConfigHash?: string): GateVerdict {
  const problems: string[] = []
  const holders: Record<string, string[]> = {}
  const me = observations.find((o) => o.host === subject)
  // A daemon on its old configuration: its running priorities say nothing about the plan.
  let stale = false
  if (!me) problems.push(`${subject}: not observed`)
  else if (me.error) problems.push(`${subject}: ${me.error}`)
  else {
    if (me.active !== 'active') problems.push(`${subject}: kaopsd is ${me.active || 'unknown'}, not active`)
    if (!me.status) problems.push(`${subject}: kaopsd status --json did not answer`)
    else {
      if (expectedConfigHash !== undefined && me.status.configHash !== expectedConfigHash) {
        stale = true
        problems.push(`${subject}: kaopsd does not run this release's configuration (configHash ${String(me.status.configHash).slice(0, 12)}, expected ${expectedConfigHash.slice(0, 12)}): the reload was refused or has not happened; see journalctl -u kaopsd`)
      }
      for (const inst of me.status.instances ?? []) {
        if (inst.state === 'INIT' || inst.state === 'FAULT') problems.push(`${subject}: instance ${inst.name} is ${inst.state}`)
      }
      for (const v of vips) {
        if (!(me.status.instances ?? []).some((i) => i.name === v.instance)) problems.push(`${subject}: kaopsd does not run instance ${v.instance}`)
      }
    }
  }
  for (const o of observations) if (o.error && o.host !== subject) problems.push(`${o.host}: ${o.error}`)
  for (const v of vips) {
    const h = holdersOf(v, observations)
    holders[v.instance] = h
    if (h.length === 0) problems.push(`${v.instance} (${v.addresses.join(', ')}): held by no director`)
    else if (h.length > 1) problems.push(`${v.instance} (${v.addresses.join(', ')}): held by ${h.join(' and ')} at once`)
    else if (placement === 'plan' && h[0] !== v.expectedMaster && (stale || !electedByRunningPriorities(v, h[0]!, observations))) problems.push(`${v.instance}: held by ${h[0]}, the plan expects ${v.expectedMaster}`)
  }
  if (me?.status && !me.error) {
    const before = earlier?.find((o) => o.host === subject)
    for (const inst of me.status.instances ?? []) {
      const v = vips.find((x) => x.instance === inst.name)
      const h = holders[inst.name]
      // No holder or two are reported above; a BACKUP holding the VIPs itself is not about hearing.
      if (inst.state !== 'BACKUP' || !v || h?.length !== 1 || h[0] === subject) continue
      const holder = observations.find((o) => o.host === h[0])!
      const then = earlier === undefined ? undefined : {pid: before?.status?.pid ?? -1, inst: before?.status?.instances?.find((i) => i.name === inst.name)}
      problems.push(...backupProblems(subject, inst, then, me.status.pid, holder, observations, v))
    }
  }
  return {ok: problems.length === 0, problems, holders}
}

/** The directors to observe for a host's gate: itself and every peer sharing an instance. */
export function gateMembers(subject: DesiredHost, directors: DesiredHost[]): DesiredHost[] {
  const inst = new Set(subject.vips.map((v) => v.instance))
  return directors.filter((d) => d.name === subject.name || d.vips.some((v) => inst.has(v.instance)))
}

/** One round trip: unit state, addresses, daemon status. */
export function gateProbeScript(unit: string): string {
  return [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH',
    `echo "U $(systemctl is-active ${shq(unit)} 2>/dev/null | head -n1)"`,
    `echo "A $(ip -j addr show 2>/dev/null | base64 -w0)"`,
    `if [ -x ${shq(KAOPSD_PATH)} ] && s=$(timeout 5 ${shq(KAOPSD_PATH)} status --json 2>/dev/null) && [ -n "$s" ]; then echo "ST $(printf '%s' "$s" | base64 -w0)"; fi`,
    'echo END',
  ].join('\n')
}

export function parseGateProbe(host: string, stdout: string): GateObservation {
  const obs: GateObservation = {host, active: 'unknown', addresses: []}
  let ended = false
  for (const line of stdout.split('\n')) {
    const [tag, rest = ''] = [line.slice(0, line.indexOf(' ') < 0 ? line.length : line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)]
    if (tag === 'U') obs.active = rest.trim() || 'unknown'
    else if (tag === 'A' && rest.trim()) {
      try {
        obs.addresses = parseAddresses('json', Buffer.from(rest.trim(), 'base64').toString('utf8'))
      } catch {
        obs.error = 'cannot parse `ip -j addr` output'
      }
    } else if (tag === 'ST') {
      try {
        obs.status = JSON.parse(Buffer.from(rest.trim(), 'base64').toString('utf8')) as KaopsdStatus
      } catch {
        /* an unparsable status counts as no answer */
      }
    } else if (tag === 'END') ended = true
  }
  if (!ended) obs.error = 'gate probe output truncated'
  return obs
}
