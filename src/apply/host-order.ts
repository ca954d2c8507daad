/**
 * The order a rollout walks directors, pure: current backups before current masters (who holds
 * a VIP is read from the actual state), and never two members of one VRRP instance at once,
 * so every instance always has a member that is not being changed.
 */
import type {DesiredHost} from '../model/desired-state.js'
import type {ActualAddress} from '../model/actual-state.js'

const ipOf = (cidr: string) => cidr.split('/')[0]!

/** Instances each director holds now (has one of the instance's VIPs on a non-lo interface). */
export function heldInstances(d: DesiredHost, addresses: ActualAddress[] | undefined): string[] {
  const have = new Set((addresses ?? []).filter((a) => a.ifname !== 'lo').map((a) => ipOf(a.cidr)))
  return d.vips.filter((v) => v.addresses.some((a) => have.has(ipOf(a)))).map((v) => v.instance)
}

/**
 * Directors in rollout order: those holding no VIP first, then by how many instances they hold
 * (fewest first); inventory order breaks ties. A director whose state is unknown counts as a
 * master (changed last: the safe guess).
 */
export function orderDirectors(directors: DesiredHost[], addressesOf: (name: string) => ActualAddress[] | undefined): DesiredHost[] {
  const weight = (d: DesiredHost): number => {
    const a = addressesOf(d.name)
    return a === undefined ? Number.MAX_SAFE_INTEGER : heldInstances(d, a).length
  }
  return directors
    .map((d, i) => ({d, i, w: weight(d)}))
    .sort((x, y) => x.w - y.w || x.i - y.i)
    .map((x) => x.d)
}

/**
 * Split an ordered list of directors into waves run one after the other: a wave never holds two
 * members of one instance and has at most `parallel` hosts. Order is kept: a host joins the
 * open wave only when it shares no instance with any host in it, otherwise a new wave starts.
 */
export function directorWaves(ordered: DesiredHost[], parallel: number): DesiredHost[][] {
  const waves: DesiredHost[][] = []
  let wave: DesiredHost[] = []
  let busy = new Set<string>()
  for (const d of ordered) {
    const inst = d.vips.map((v) => v.instance)
    if (wave.length >= parallel || inst.some((i) => busy.has(i))) {
      waves.push(wave)
      wave = []
      busy = new Set()
    }
    wave.push(d)
    for (const i of inst) busy.add(i)
  }
  if (wave.length > 0) waves.push(wave)
  return waves
}

/** Hosts in groups of at most `size` (parallel phases), order kept. */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
