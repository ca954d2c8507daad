/**
 * The inventory loader and renderer, loaded by a non-literal specifier so apply builds while
 * src/inventory/load.ts is still being written (the same approach as the plan command).
 */
import type {DesiredHost} from '../model/desired-state.js'
import {KaopsError} from '../model/errors.js'

export interface InventoryModules {
  loadInventory(path: string): Promise<unknown>
  renderHosts(inventory: unknown): DesiredHost[]
}

export async function inventoryModules(): Promise<InventoryModules> {
  const load = '../inventory/load.js'
  const render = '../render/render-hosts.js'
  const [l, r] = (await Promise.all([import(load), import(render)]).catch((error: unknown) => {
    throw new KaopsError(`this build has no inventory loader or renderer yet: ${(error as Error).message}`)
  })) as [{loadInventory(path: string): Promise<unknown>}, {renderHosts(inventory: unknown): DesiredHost[]}]
  return {loadInventory: l.loadInventory, renderHosts: r.renderHosts}
}

/** The inventory's kaopsd.keepReleases, when it has one. */
export function keepReleasesOf(inventory: unknown, fallback = 5): number {
  const k = (inventory as {kaopsd?: {keepReleases?: unknown}} | undefined)?.kaopsd?.keepReleases
  return typeof k === 'number' && Number.isInteger(k) && k >= 1 ? k : fallback
}

/** The inventory's kaopsd.binary (local path of the executable to ship), when it has one. */
export function kaopsdBinaryOf(inventory: unknown): string | undefined {
  const b = (inventory as {kaopsd?: {binary?: unknown}} | undefined)?.kaopsd?.binary
  return typeof b === 'string' ? b : undefined
}
