/**
 * Collects the facts verify checks, over SSH: per host ONE connection running the state probe
 * (src/remote) and then the verify facts script (two kaopsd status reads a few seconds apart,
 * MACs, the full firewall ruleset); on the probe host, who answers ARP for each VIP address.
 * Silent: returns data; a host that fails becomes its `error`, the others carry on.
 */
import type {DesiredHost} from '../model/desired-state.js'
import type {Inventory} from '../model/inventory.js'
import type {ArpObservation, HostFacts, VerifyFacts} from '../model/verify.js'
import {hostPart} from '../inventory/derive.js'
import {withRemoteHost, type ConnectOptions, type RemoteHost} from '../remote/connection.js'
import {mapSettledLimit} from '../remote/parallel.js'
import {probeHost} from '../remote/state-probe.js'
import {buildArpScript, buildFactsScript, parseArpOutput, parseFactsOutput} from './facts-script.js'

export interface GatherVerifyOptions extends ConnectOptions {
  parallel?: number
  /** Seconds between the two status reads; default: 2 advert intervals of the slowest VIP, at least 2. */
  statusGapSeconds?: number
}

export function defaultStatusGap(inv: Inventory): number {
  const slowest = Math.max(1, ...inv.vips.map((v) => v.advertInterval))
  return Math.max(2, Math.ceil(2 * slowest + 0.5))
}

async function readHost(r: RemoteHost, d: DesiredHost, gap: number): Promise<HostFacts> {
  const actual = await probeHost(r, d)
  const res = await r.exec('sh -s', {stdin: buildFactsScript(d.roles.includes('director') ? gap : 0), timeoutMs: (gap + 30) * 1000})
  if (res.code !== 0) throw new Error(`verify facts script failed (exit ${res.code}): ${res.stderr.trim().slice(-300)}`)
  return {name: d.name, actual, extra: parseFactsOutput(d.name, res.stdout)}
}

async function askArp(r: RemoteHost, addresses: string[]): Promise<ArpObservation[]> {
  const res = await r.exec('sh -s', {stdin: buildArpScript(addresses), timeoutMs: 10_000 + addresses.length * 5_000})
  if (res.code !== 0) throw new Error(`ARP query failed (exit ${res.code}): ${res.stderr.trim().slice(-300)}`)
  return parseArpOutput(res.stdout)
}

export async function gatherVerifyFacts(inv: Inventory, desired: DesiredHost[], opts: GatherVerifyOptions = {}): Promise<VerifyFacts> {
  const gap = opts.statusGapSeconds ?? defaultStatusGap(inv)
  const probe = desired.find((d) => d.roles.includes('probe'))
  const addresses = [...new Set(inv.vips.flatMap((v) => v.addresses.map((a) => hostPart(a.address))))]
  let arp: ArpObservation[] = []
  const results = await mapSettledLimit(desired, opts.parallel ?? 10, (d) =>
    withRemoteHost(d.ssh, opts, async (r) => {
      if (d === probe) {
        // Ask in the middle of the status window, when every director is settled and read.
        arp = await askArp(r, addresses)
        return {name: d.name, actual: await probeHost(r, d)} as HostFacts
      }
      return readHost(r, d, gap)
    }),
  )
  const hosts: Record<string, HostFacts> = {}
  desired.forEach((d, i) => {
    const r = results[i]!
    hosts[d.name] = r.status === 'fulfilled' ? r.value : {name: d.name, error: r.reason instanceof Error ? r.reason.message : String(r.reason)}
  })
  const facts: VerifyFacts = {hosts, arp}
  if (probe) facts.probeHost = probe.name
  return facts
}
