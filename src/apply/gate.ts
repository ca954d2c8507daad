/**
 * The health gate after each director: read every member of the host's VRRP instances (one
 * round trip each) and decide, purely, whether the cluster is healthy again:
 *  - kaopsd active on the host just changed, answering `kaopsd status --json`;
 *  - its instances converged (none in INIT or FAULT);
 *  - every VIP of those instances held by exactly one director;
 *  - with placement "plan", held by the director the plan expects.
 */
import type {DesiredHost, DesiredVip} from '../model/desired-state.js'
import type {ActualAddress} from '../model/actual-state.js'
import type {KaopsdStatus} from '../model/kaopsd-status.js'
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

export function evaluateGate(subject: string, vips: DesiredVip[], observations: GateObservation[], placement: 'plan' | 'any'): GateVerdict {
  const problems: string[] = []
  const holders: Record<string, string[]> = {}
  const me = observations.find((o) => o.host === subject)
  if (!me) problems.push(`${subject}: not observed`)
  else if (me.error) problems.push(`${subject}: ${me.error}`)
  else {
    if (me.active !== 'active') problems.push(`${subject}: kaopsd is ${me.active || 'unknown'}, not active`)
    if (!me.status) problems.push(`${subject}: kaopsd status --json did not answer`)
    else {
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
    else if (placement === 'plan' && h[0] !== v.expectedMaster) problems.push(`${v.instance}: held by ${h[0]}, the plan expects ${v.expectedMaster}`)
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
