/**
 * Actual state of many hosts: one connection and one probe per host, at most `parallel` at a
 * time. Every host settles: a failure becomes that host's Error, the others carry on.
 */
import type {DesiredHost} from '../model/desired-state.js'
import type {ActualHost} from '../model/actual-state.js'
import {withRemoteHost, type ConnectOptions} from './connection.js'
import {mapSettledLimit} from './parallel.js'
import {probeHost} from './state-probe.js'

export interface GatherOptions extends ConnectOptions {
  /** Hosts probed at once. Default 10. */
  parallel?: number
}

export async function gatherActualState(desired: DesiredHost[], opts: GatherOptions = {}): Promise<Map<string, ActualHost | Error>> {
  const results = await mapSettledLimit(desired, opts.parallel ?? 10, (host) => withRemoteHost(host.ssh, opts, (r) => probeHost(r, host)))
  const out = new Map<string, ActualHost | Error>()
  desired.forEach((host, i) => {
    const r = results[i]!
    out.set(host.name, r.status === 'fulfilled' ? r.value : r.reason instanceof Error ? r.reason : new Error(String(r.reason)))
  })
  return out
}
