/**
 * What a plan means for VRRP, pure: which VIPs would move (who holds each now, from the
 * directors' addresses, against the desired master) and which kaopsd daemons would reload
 * (config only: no VIP flap) or restart (binary or unit: a graceful handover first).
 */
import type {DesiredHost} from '../model/desired-state.js'
import type {ActualHost} from '../model/actual-state.js'
import type {DaemonAction, HostPlan, VipMove} from '../model/plan.js'
import {fileRole, isKaopsdUnit} from './classify.js'
import {REPLACED_DAEMON_UNIT} from '../render/paths.js'

const ipOf = (cidr: string) => cidr.split('/')[0]!

export function vipHolders(addresses: string[], directors: DesiredHost[], actual: Map<string, ActualHost | Error>): string[] {
  const want = new Set(addresses.map(ipOf))
  const holders: string[] = []
  for (const d of directors) {
    const a = actual.get(d.name)
    if (!a || a instanceof Error) continue
    if (a.addresses.some((x) => x.ifname !== 'lo' && want.has(ipOf(x.cidr)))) holders.push(d.name)
  }
  return holders
}

export function vipMoves(desired: DesiredHost[], actual: Map<string, ActualHost | Error>): VipMove[] {
  const directors = desired.filter((d) => d.vips.length > 0)
  const seen = new Set<string>()
  const out: VipMove[] = []
  for (const d of directors) {
    for (const v of d.vips) {
      if (seen.has(v.instance)) continue
      seen.add(v.instance)
      const members = directors.filter((x) => x.vips.some((y) => y.instance === v.instance))
      // A VIP whose members we could not all read: say nothing rather than guess.
      if (members.some((m) => !(actual.get(m.name) && !(actual.get(m.name) instanceof Error)))) continue
      const from = vipHolders(v.addresses, members, actual)
      if (from.length === 1 && from[0] === v.expectedMaster) continue
      out.push({instance: v.instance, vrid: v.vrid, addresses: v.addresses, from, to: v.expectedMaster})
    }
  }
  return out
}

export function daemonActions(desired: DesiredHost[], hosts: HostPlan[]): DaemonAction[] {
  const out: DaemonAction[] = []
  for (const hp of hosts) {
    const d = desired.find((x) => x.name === hp.host)
    if (!d || !d.roles.includes('director')) continue
    const changed = hp.changes.filter((c) => c.action !== 'no-op')
    const restartWhy = changed.filter((c) => c.kind === 'binary' || (c.kind === 'file' && fileRole(c.id) === 'kaopsd-unit')).map((c) => (c.kind === 'binary' ? 'binary changed' : `${c.id} changed`))
    const unit = hp.changes.find((c) => c.kind === 'unit' && isKaopsdUnit(c.id))
    const notRunning = unit !== undefined && (unit.before === null || unit.before['active'] !== 'active')
    const reloadWhy = changed.filter((c) => c.kind === 'file' && fileRole(c.id) === 'kaopsd-config').map((c) => `${c.id} changed`)
    const replaced = hp.changes.find((c) => c.kind === 'unit' && c.id === REPLACED_DAEMON_UNIT && c.action !== 'no-op' && c.before?.['active'] === 'active')
    if (notRunning && replaced) out.push({host: hp.host, action: 'start', reason: `kaopsd replaces the running ${REPLACED_DAEMON_UNIT} (its VIPs handed to a peer kaopsd first, then it is stopped and disabled)`})
    else if (notRunning) out.push({host: hp.host, action: 'start', reason: 'kaopsd is not running'})
    else if (restartWhy.length > 0) out.push({host: hp.host, action: 'restart', reason: `${restartWhy.join(', ')} (mastership handed over first)`})
    else if (reloadWhy.length > 0) out.push({host: hp.host, action: 'reload', reason: `${reloadWhy.join(', ')} (SIGHUP, no VIP flap)`})
  }
  return out
}
