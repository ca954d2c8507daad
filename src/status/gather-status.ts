import type {Inventory} from '../model/inventory.js'
import {gatherActualState, type GatherOptions} from '../remote/gather.js'
import {renderHosts} from '../render/render-hosts.js'
import type {DirectorFacts} from './site-status.js'

/**
 * Read each director over SSH with src/remote's probe (addresses and `kaopsd status --json`),
 * in parallel; an unreachable director becomes `error`, the others are still shown.
 */
export async function gatherStatusFacts(inv: Inventory, opts: GatherOptions = {}): Promise<Map<string, DirectorFacts>> {
  const directors = renderHosts(inv).filter((h) => h.roles.includes('director'))
  const actual = await gatherActualState(directors, opts)
  const out = new Map<string, DirectorFacts>()
  for (const [name, a] of actual) {
    if (a instanceof Error) out.set(name, {addresses: [], error: a.message})
    else out.set(name, {addresses: a.addresses, ...(a.kaopsdStatus !== undefined ? {kaopsdStatus: a.kaopsdStatus} : {})})
  }
  return out
}
