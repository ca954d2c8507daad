/**
 * A fingerprint of the parts of a host's actual state that a plan depends on. A saved plan
 * records it per host; apply recomputes it and refuses a plan whose hosts changed since.
 * Volatile data (kaopsd status counters, probe timing, IPv6 link-local) is left out on purpose.
 */
import {createHash} from 'node:crypto'
import type {ActualHost} from '../model/actual-state.js'
import type {Plan} from '../model/plan.js'

export function fingerprintActual(a: ActualHost): string {
  const canonical = {
    files: a.files.map((f) => [f.path, f.exists, f.sha256 ?? null, f.mode ?? null]).sort(),
    sysctl: a.sysctl.map((s) => [s.key, s.value ?? null]).sort(),
    firewall: [a.firewall.flavour, a.firewall.vrrpRulesPresent, createHash('sha256').update(a.firewall.rules).digest('hex')],
    binary: [a.binary.exists, a.binary.sha256 ?? null],
    units: a.units.map((u) => [u.name, u.enabled, u.active]).sort(),
    addresses: a.addresses
      .filter((x) => !(x.family === 'inet6' && x.cidr.toLowerCase().startsWith('fe80:')))
      .map((x) => `${x.ifname} ${x.cidr}`)
      .sort(),
    managed: [...a.managedPaths].sort(),
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex')
}

/** Hosts whose state no longer matches the plan, each with why. Empty: the plan is fresh. */
export function staleHosts(plan: Plan, actual: Map<string, ActualHost | Error>): {host: string; reason: string}[] {
  const out: {host: string; reason: string}[] = []
  for (const h of plan.hosts) {
    const a = actual.get(h.host)
    if (a === undefined) out.push({host: h.host, reason: 'not probed'})
    else if (a instanceof Error) out.push({host: h.host, reason: `cannot read its state: ${a.message}`})
    else if (fingerprintActual(a) !== h.fingerprint) out.push({host: h.host, reason: 'its state changed since the plan was made'})
  }
  return out
}

export function isPlanStale(plan: Plan, actual: Map<string, ActualHost | Error>): boolean {
  return staleHosts(plan, actual).length > 0
}
