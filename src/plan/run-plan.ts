/**
 * The plan pipeline, without oclif: load the inventory, render every host, read their actual
 * state, compute the plan. The inventory loader and renderer come in as functions so this file
 * depends on their contract only, and tests can pass fixtures.
 */
import type {DesiredHost} from '../model/desired-state.js'
import type {ActualHost} from '../model/actual-state.js'
import type {Plan} from '../model/plan.js'
import {KaopsError} from '../model/errors.js'
import {gatherActualState, type GatherOptions} from '../remote/gather.js'
import {computePlan} from './compute.js'
import type {KaopsdArtifact} from './host-changes.js'

export interface PlanPipeline<I> {
  loadInventory(path: string): Promise<I>
  renderHosts(inventory: I): DesiredHost[]
  gather?: (desired: DesiredHost[], opts: GatherOptions) => Promise<Map<string, ActualHost | Error>>
}

export interface RunPlanOptions extends GatherOptions {
  /** Only these hosts (inventory names); unknown names are an error before anything is contacted. */
  hosts?: string[]
  kaopsd?: KaopsdArtifact
}

export interface PlanRun {
  plan: Plan
  desired: DesiredHost[]
  actual: Map<string, ActualHost | Error>
}

/** Hosts kaops manages something on (probe-only hosts, like the lab's client, have nothing). */
export function manageable(h: DesiredHost): boolean {
  return h.files.length + h.sysctl.length + h.units.length + h.loopbackVips.length + h.vips.length > 0 || h.roles.includes('director')
}

export function selectHosts(all: DesiredHost[], names: string[] | undefined): DesiredHost[] {
  if (!names || names.length === 0) return all.filter(manageable)
  const known = new Set(all.map((h) => h.name))
  const unknown = names.filter((n) => !known.has(n))
  if (unknown.length > 0) {
    throw new KaopsError(`unknown host(s): ${unknown.join(', ')}`, {suggestions: [`hosts in this inventory: ${[...known].join(', ')}`]})
  }
  return all.filter((h) => names.includes(h.name))
}

export async function runPlan<I>(inventoryPath: string, pipeline: PlanPipeline<I>, opts: RunPlanOptions = {}): Promise<PlanRun> {
  const inventory = await pipeline.loadInventory(inventoryPath)
  const all = pipeline.renderHosts(inventory)
  const desired = selectHosts(all, opts.hosts)
  const gather = pipeline.gather ?? gatherActualState
  const actual = await gather(desired, opts)
  // VIP holders are judged from the selected hosts only; a partial plan says so via errors.
  const plan = computePlan(desired, actual, {kaopsd: opts.kaopsd, inventory: inventoryPath})
  return {plan, desired, actual}
}
