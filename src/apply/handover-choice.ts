/**
 * Pure choices behind the make-before-break handover (handover-mastership): which of a host's
 * instances it holds now, and which peer kaopsd should take each over.
 */
import type {DesiredHost, DesiredVip} from '../model/desired-state.js'
import {holdersOf, type GateObservation} from './gate.js'

/** The host's instances whose VIPs sit on it now (not on lo): the gate's own holder test. */
export function heldVips(host: DesiredHost, me: GateObservation): DesiredVip[] {
  return host.vips.filter((v) => holdersOf(v, [me]).length > 0)
}

/**
 * For each instance, the peer whose kaopsd can take it over: active, running the instance in
 * BACKUP, the highest effective priority first (the one the others would elect anyway).
 */
export function takeoverPeers(instances: string[], peers: GateObservation[], byName: Map<string, DesiredHost>): Map<string, string[]> | null {
  const out = new Map<string, string[]>()
  for (const inst of instances) {
    const candidates = peers
      .flatMap((o) => {
        const i = o.active === 'active' && !o.error ? o.status?.instances?.find((x) => x.name === inst && x.state === 'BACKUP') : undefined
        return i && byName.has(o.host) ? [{host: o.host, prio: i.effectivePriority}] : []
      })
      .sort((a, b) => b.prio - a.prio)
    if (candidates.length === 0) return null
    out.set(candidates[0]!.host, [...(out.get(candidates[0]!.host) ?? []), inst])
  }
  return out
}
