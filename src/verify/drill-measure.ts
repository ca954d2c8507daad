/**
 * The drill's numbers, from what was recorded: the capture (adverts, GARP), the address monitor
 * (VIP added/removed), the probe log, and the instants of the fault and the restore. Pure, so a
 * recorded capture and probe log give the same verdict in a test as in the field.
 */
import type {DrillEvent, DrillFailback, DrillFault, DrillPhaseMeasure} from '../model/verify.js'

export interface MeasureInput {
  fault: DrillFault
  vrid: number
  version: 2 | 3
  advertIntervalMs: number
  vip: string
  /** Primary address -> director name, for every director of the instance. */
  directors: Record<string, string>
  oldMaster: string
  /** Configured priority of each director. */
  priorities: Record<string, number>
  preempt: boolean
  tFault: number
  tRestore: number | null
  toleranceMs: number
  /** The probe's connect timeout: a failed probe is stamped when it started. */
  probeTimeoutMs: number
  events: DrillEvent[]
}

/** RFC 3768 skew time (v2: seconds scaled to ms; v3 the same in centiseconds, same result in ms). */
export const skewMs = (priority: number, advertMs: number): number => ((256 - priority) * advertMs) / 256
export const masterDownMs = (priority: number, advertMs: number): number => 3 * advertMs + skewMs(priority, advertMs)

const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10)

function outage(events: DrillEvent[], from: number, to: number): DrillPhaseMeasure['outage'] {
  const probes = events.filter((e): e is Extract<DrillEvent, {kind: 'probe'}> => e.kind === 'probe' && e.t >= from && e.t < to)
  const failed = probes.filter((p) => !p.ok)
  const first = failed[0]?.t ?? null
  const last = failed.at(-1)?.t ?? null
  return {firstFailAt: first, lastFailAt: last, durationMs: first === null ? 0 : Math.round(last! - first), failedProbes: failed.length, probes: probes.length}
}

export function measureTakeover(m: MeasureInput): DrillPhaseMeasure {
  const adverts = m.events.filter((e): e is Extract<DrillEvent, {kind: 'advert'}> => e.kind === 'advert' && e.vrid === m.vrid).sort((a, b) => a.t - b.t)
  const nameOf = (addr: string) => m.directors[addr]
  const end = m.tRestore ?? Infinity
  const oldAdverts = adverts.filter((a) => nameOf(a.src) === m.oldMaster)
  const basePrio = m.priorities[m.oldMaster] ?? 255
  const reasons: string[] = []
  // The reference instant the protocol's timers start from.
  let t0: number | null = null
  let graceful = m.fault === 'graceful'
  const zero = oldAdverts.find((a) => a.priority === 0 && a.t >= m.tFault - 5)
  if (zero) {
    t0 = zero.t
    graceful = true
    if (m.fault === 'crash' || m.fault === 'link') reasons.push(`the old master handed over with a priority-0 advert although the fault was ${m.fault} (restarted and stopped by its service manager?)`)
  } else {
    if (m.fault === 'graceful') reasons.push('no priority-0 advert from the old master: it did not hand over')
    if (m.fault === 'track') t0 = oldAdverts.find((a) => a.t >= m.tFault && a.priority !== basePrio)?.t ?? null
    if (t0 === null) t0 = oldAdverts.filter((a) => a.t <= Math.max(m.tFault, (adverts.find((b) => b.t > m.tFault && nameOf(b.src) !== m.oldMaster)?.t ?? m.tFault)) && a.t < end).at(-1)?.t ?? null
  }
  const first = t0 === null ? undefined : adverts.find((a) => a.t > t0! && a.t < end && nameOf(a.src) !== m.oldMaster && a.priority > 0)
  const to = first ? (nameOf(first.src) ?? first.src) : null
  const newPrio = to ? (m.priorities[to] ?? 100) : 100
  const boundMs = round(graceful ? skewMs(newPrio, m.advertIntervalMs) : masterDownMs(newPrio, m.advertIntervalMs))!
  const garp = first ? m.events.find((e) => e.kind === 'garp' && e.address === m.vip && e.t >= first.t - 1 && e.t < end) : undefined
  const added = first ? m.events.find((e) => e.kind === 'vip-add' && e.host === to && e.address === m.vip && e.t >= t0! - 1 && e.t < end) : undefined
  const since = (e: {t: number} | undefined) => (e && t0 !== null ? round(e.t - t0) : null)
  const o = outage(m.events, m.tFault, end)
  const firstAdvertMs = since(first)
  if (t0 === null) reasons.push('no advert from the old master before the fault in the capture')
  if (!first) reasons.push('no other director started advertising: the VIP did not move')
  else if (firstAdvertMs! > boundMs + m.toleranceMs) reasons.push(`first advert after ${firstAdvertMs} ms, bound ${boundMs} ms + ${m.toleranceMs} ms`)
  if (first && !garp) reasons.push('no gratuitous ARP for the VIP from the new master')
  const outageBound = boundMs + m.toleranceMs + m.probeTimeoutMs
  if (o.durationMs > outageBound) reasons.push(`clients saw ${o.durationMs} ms of outage, more than ${outageBound} ms (bound + tolerance + probe timeout)`)
  if (o.probes === 0) reasons.push('the probe recorded nothing')
  const notes: string[] = []
  const monitored = m.events.some((e) => (e.kind === 'vip-add' || e.kind === 'vip-del') && e.host === m.oldMaster)
  const released = m.events.some((e) => e.kind === 'vip-del' && e.host === m.oldMaster && e.address === m.vip && e.t >= m.tFault && e.t < end)
  if (monitored && !released && (m.fault === 'crash' || m.fault === 'link')) {
    notes.push(`${m.vip} stayed configured on ${m.oldMaster} after the ${m.fault} (nothing left to remove it): ${m.fault === 'crash' ? 'its kernel kept answering clients whose ARP entry still pointed at it' : 'a duplicate once the link is back, until the daemon resolves it'}`)
  }
  return {notes, from: m.oldMaster, to, t0, firstAdvertMs, garpMs: since(garp), vipAddedMs: since(added), boundMs, outage: o, verdict: reasons.length ? 'FAIL' : 'PASS', reasons}
}

export function measureFailback(m: MeasureInput, takeoverTo: string | null, tEnd: number): DrillFailback {
  const base = {firstAdvertMs: null, garpMs: null, outage: outage(m.events, m.tRestore ?? tEnd, tEnd)}
  if (m.tRestore === null) return {...base, expected: false, verdict: 'FAIL', message: 'the old master was not restored'}
  if (takeoverTo === null) return {...base, expected: false, verdict: 'FAIL', message: 'the VIP never moved, so there is no failback to measure'}
  const tr = m.tRestore
  const oldPrio = m.priorities[m.oldMaster] ?? 0
  const expected = m.preempt && takeoverTo !== null && oldPrio > (m.priorities[takeoverTo] ?? 0)
  const back = m.events.find((e) => e.kind === 'advert' && e.vrid === m.vrid && e.t >= tr && m.directors[e.src] === m.oldMaster && e.priority > 0)
  const garp = back ? m.events.find((e) => e.kind === 'garp' && e.address === m.vip && e.t >= back.t - 1) : undefined
  const ms = (e: {t: number} | undefined) => (e ? round(e.t - tr) : null)
  if (!expected) {
    return back
      ? {...base, expected, firstAdvertMs: ms(back), garpMs: ms(garp), verdict: 'FAIL', message: `${m.oldMaster} took the VIP back although ${m.preempt ? 'its priority is not higher' : 'the instance is nopreempt'}`}
      : {...base, expected, verdict: 'PASS', message: `no failback, as expected (${m.preempt ? 'priority not higher' : 'nopreempt'}): ${takeoverTo ?? 'the backup'} keeps the VIP`}
  }
  if (!back) return {...base, expected, verdict: 'FAIL', message: `${m.oldMaster} did not take the VIP back (preempt expected)`}
  return {...base, expected, firstAdvertMs: ms(back), garpMs: ms(garp), verdict: garp ? 'PASS' : 'FAIL', message: `${m.oldMaster} took the VIP back ${ms(back)} ms after the restore${garp ? '' : ' but sent no gratuitous ARP'}`}
}
