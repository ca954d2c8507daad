/**
 * How weights become map slots for the nftables data plane (pure).
 *
 * - Round-robin maps (numgen): every live destination appears `weight` times (after dividing
 *   by the weights' gcd) in a smooth interleaved order, so consecutive new connections go to
 *   different servers. Changing this map never disturbs established NAT connections: their
 *   translation is held by conntrack and the nat chain sees only a flow's first packet.
 * - Hash maps (jhash: sh, and DR where there is no conntrack): a fixed number of
 *   slots, each owned by one destination in proportion to its weight. When the set changes,
 *   slots keep their owner wherever the owner is still wanted, so a hash keeps sending the
 *   same flows/sources to the same healthy server; only the slots of departed servers move.
 */

export interface WeightedKey {
  key: string
  weight: number
}

const maxRoundRobinSlots = 1024

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b]
  return a
}

/** Positive integer weights reduced by their gcd, scaled down if the total would be huge. */
export function reduceWeights(items: readonly WeightedKey[]): WeightedKey[] {
  const live = items.filter((i) => i.weight > 0).map((i) => ({key: i.key, weight: Math.floor(i.weight)})).filter((i) => i.weight > 0)
  if (live.length === 0) return []
  const g = live.reduce((acc, i) => gcd(acc, i.weight), 0)
  let reduced = live.map((i) => ({key: i.key, weight: i.weight / g}))
  const total = reduced.reduce((s, i) => s + i.weight, 0)
  if (total > maxRoundRobinSlots) {
    // Proportions survive to within one slot; every live server keeps at least one.
    reduced = reduced.map((i) => ({key: i.key, weight: Math.max(1, Math.round((i.weight * maxRoundRobinSlots) / total))}))
  }
  return reduced
}

/** Smooth weighted round-robin order: each step picks the highest running credit. */
export function roundRobinSlots(items: readonly WeightedKey[]): string[] {
  const reduced = reduceWeights(items)
  const total = reduced.reduce((s, i) => s + i.weight, 0)
  const credit = reduced.map(() => 0)
  const out: string[] = []
  for (let n = 0; n < total; n++) {
    let best = 0
    for (let i = 0; i < reduced.length; i++) {
      credit[i]! += reduced[i]!.weight
      if (credit[i]! > credit[best]!) best = i
    }
    credit[best]! -= total
    out.push(reduced[best]!.key)
  }
  return out
}

export function hashSlotCount(destinations: number): number {
  return Math.max(256, 4 * destinations)
}

/** Each key's share of `size` slots by largest remainder (ties: config order). */
export function quotas(items: readonly WeightedKey[], size: number): Map<string, number> {
  const live = items.filter((i) => i.weight > 0)
  const total = live.reduce((s, i) => s + i.weight, 0)
  const out = new Map<string, number>()
  if (total === 0) return out
  const exact = live.map((i) => (i.weight * size) / total)
  const floors = exact.map(Math.floor)
  let left = size - floors.reduce((s, n) => s + n, 0)
  const order = exact.map((e, idx) => ({idx, frac: e - Math.floor(e)})).sort((a, b) => b.frac - a.frac || a.idx - b.idx)
  for (const {idx} of order) {
    if (left === 0) break
    floors[idx]! += 1
    left--
  }
  live.forEach((i, idx) => out.set(i.key, (out.get(i.key) ?? 0) + floors[idx]!))
  return out
}

/**
 * A slot table of `size` for the weighted keys that moves as few slots as possible away from
 * `current` (slot -> key as the kernel holds it now).
 */
export function stableHashSlots(current: ReadonlyArray<string | undefined>, items: readonly WeightedKey[], size: number): string[] {
  const quota = quotas(items, size)
  if (quota.size === 0) return []
  const taken = new Map<string, number>()
  const slots: (string | undefined)[] = new Array<string | undefined>(size).fill(undefined)
  for (let s = 0; s < size; s++) {
    const owner = current[s]
    if (owner === undefined) continue
    const q = quota.get(owner) ?? 0
    const t = taken.get(owner) ?? 0
    if (t < q) {
      slots[s] = owner
      taken.set(owner, t + 1)
    }
  }
  // Hand free slots out in turn to the keys still short of their quota (interleaved).
  const needy = [...quota.keys()].filter((k) => (taken.get(k) ?? 0) < quota.get(k)!)
  let turn = 0
  for (let s = 0; s < size; s++) {
    if (slots[s] !== undefined) continue
    while ((taken.get(needy[turn % needy.length]!) ?? 0) >= quota.get(needy[turn % needy.length]!)!) turn++
    const k = needy[turn % needy.length]!
    slots[s] = k
    taken.set(k, (taken.get(k) ?? 0) + 1)
    turn++
  }
  return slots as string[]
}
