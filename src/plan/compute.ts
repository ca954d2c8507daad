/**
 * computePlan: desired hosts and their actual states in, a Plan out. Pure (the clock is a
 * parameter), so plans are testable from recorded actual states.
 */
import type {DesiredHost} from '../model/desired-state.js'
import type {ActualHost} from '../model/actual-state.js'
import {PLAN_FORMAT_VERSION, type HostPlan, type Plan, type ResourceAction} from '../model/plan.js'
import {fingerprintActual} from './fingerprint.js'
import {hostChanges, type KaopsdArtifact} from './host-changes.js'
import {daemonActions, vipMoves} from './vrrp-impact.js'

export interface ComputePlanOptions {
  kaopsd?: KaopsdArtifact
  inventory?: string
  now?: Date
}

export function computePlan(desired: DesiredHost[], actual: Map<string, ActualHost | Error>, opts: ComputePlanOptions = {}): Plan {
  const vipAddrs = new Set<string>()
  for (const d of desired) {
    for (const v of d.vips) for (const a of v.addresses) vipAddrs.add(a.split('/')[0]!)
    for (const a of d.loopbackVips) vipAddrs.add(a.split('/')[0]!)
  }
  const hosts: HostPlan[] = []
  const errors: Plan['errors'] = []
  for (const d of desired) {
    const a = actual.get(d.name)
    if (a === undefined) {
      errors.push({host: d.name, message: `host ${d.name}: its state was not read`})
      continue
    }
    if (a instanceof Error) {
      errors.push({host: d.name, message: a.message})
      continue
    }
    const changes = hostChanges(d, a, {kaopsd: opts.kaopsd, inventoryVipAddresses: vipAddrs})
    const summary: Record<ResourceAction, number> = {create: 0, update: 0, delete: 0, 'no-op': 0}
    for (const c of changes) summary[c.action]++
    hosts.push({host: d.name, address: d.address, roles: [...d.roles], fingerprint: fingerprintActual(a), changes, summary})
  }
  const plan: Plan = {
    format_version: PLAN_FORMAT_VERSION,
    created_at: (opts.now ?? new Date()).toISOString(),
    hosts,
    errors,
    vrrp: {vipMoves: vipMoves(desired, actual), daemons: daemonActions(desired, hosts)},
    has_changes: hosts.some((h) => h.summary.create + h.summary.update + h.summary.delete > 0),
  }
  if (opts.inventory !== undefined) plan.inventory = opts.inventory
  return plan
}
