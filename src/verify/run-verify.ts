/**
 * `kaops verify INVENTORY`: load, render (what each host should be), gather facts over SSH,
 * check the invariants. The one function the command and the drill call.
 */
import {loadInventory} from '../inventory/load.js'
import {renderHosts} from '../render/render-hosts.js'
import type {DesiredHost} from '../model/desired-state.js'
import type {Inventory} from '../model/inventory.js'
import type {CheckResult, VerifyFacts, VerifyReport} from '../model/verify.js'
import {gatherVerifyFacts, type GatherVerifyOptions} from './gather-facts.js'
import {allHold, checkInvariants, type InvariantOptions} from './invariants.js'

export interface VerifyRun {
  report: VerifyReport
  inventory: Inventory
  desired: DesiredHost[]
  facts: VerifyFacts
}

export function toReport(inventoryPath: string, checks: CheckResult[]): VerifyReport {
  const counts = {pass: 0, fail: 0, skip: 0}
  for (const c of checks) counts[c.status]++
  return {format_version: 1, inventory: inventoryPath, ok: allHold(checks), counts, checks}
}

export async function verifyInventory(inventoryPath: string, opts: GatherVerifyOptions & InvariantOptions & {inventory?: Inventory} = {}): Promise<VerifyRun> {
  const inventory = opts.inventory ?? (await loadInventory(inventoryPath))
  const desired = renderHosts(inventory)
  const facts = await gatherVerifyFacts(inventory, desired, opts)
  const checks = checkInvariants(inventory, desired, facts, opts)
  return {report: toReport(inventoryPath, checks), inventory, desired, facts}
}
