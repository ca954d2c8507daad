import {test} from 'node:test'
import assert from 'node:assert/strict'
import {arpFrame, parsePcap, vrrpFrame, writePcap, type FrameSpec} from '../../src/verify/pcap.js'
import {masterDownMs, measureFailback, measureTakeover, skewMs, type MeasureInput} from '../../src/verify/drill-measure.js'
import {parseAddrMonitor, parseProbeLog} from '../../src/verify/drill-logs.js'

const M1 = '02:00:00:00:00:11'
const M2 = '02:00:00:00:00:12'
const T = 1_800_000_000_000
const VIP = '198.18.0.100'

/**
 * A recorded crash drill, built as the wire would carry it: dir1 (150) advertises every second
 * and dies after its advert at T+3000; dir2 (100) takes over after Master_Down_Interval
 * (3 s + skew 609.375 ms) plus 1.5 ms, sends GARP; dir1 comes back at T+10000 and preempts.
 */
function crashCapture(): {pcap: Buffer; probe: string; addr: string} {
  const frames: FrameSpec[] = []
  for (let t = 0; t <= 3000; t += 1000) frames.push({t: T + t, frame: vrrpFrame(M1, '198.18.0.11', 51, 150, [VIP])})
  frames.push({t: T + 3200, frame: arpFrame('02:00:00:00:00:31', '198.18.0.31', VIP)})
  const take = T + 3000 + masterDownMs(100, 1000) + 1.5
  frames.push({t: take, frame: vrrpFrame(M2, '198.18.0.12', 51, 100, [VIP])})
  frames.push({t: take + 0.4, frame: arpFrame(M2, VIP, VIP)})
  for (let t = take + 1000; t < T + 13600; t += 1000) frames.push({t, frame: vrrpFrame(M2, '198.18.0.12', 51, 100, [VIP])})
  const back = T + 13700
  frames.push({t: back, frame: vrrpFrame(M1, '198.18.0.11', 51, 150, [VIP])})
  frames.push({t: back + 0.3, frame: arpFrame(M1, VIP, VIP, 2)})
  const probe: string[] = []
  for (let t = T; t < T + 15000; t += 10) probe.push(`${t} ${t > T + 3050 && t < take ? 0 : 1} 1`)
  const iso = (t: number) => new Date(t).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000')
  const addr = `[${iso(Math.round(take + 0.2))}] 2: eth0    inet ${VIP}/24 scope global secondary eth0\n       valid_lft forever preferred_lft forever\n[${iso(back + 1)}] Deleted 2: eth0    inet ${VIP}/24 scope global secondary eth0\n`
  return {pcap: writePcap(frames), probe: probe.join('\n'), addr}
}

const input = (events: MeasureInput['events'], over: Partial<MeasureInput> = {}): MeasureInput => ({
  fault: 'crash', vrid: 51, version: 2, advertIntervalMs: 1000, vip: VIP,
  directors: {'198.18.0.11': 'dir1', '198.18.0.12': 'dir2'}, oldMaster: 'dir1', priorities: {dir1: 150, dir2: 100},
  preempt: true, tFault: T + 3050, tRestore: T + 10000, toleranceMs: 50, probeTimeoutMs: 100, events, ...over,
})

test('pcap: adverts, gratuitous and ordinary ARP, with microsecond times', () => {
  const ev = parsePcap(crashCapture().pcap)
  assert.deepEqual(ev[0], {t: T, kind: 'advert', src: '198.18.0.11', vrid: 51, priority: 150})
  assert.deepEqual(ev.find((e) => e.kind === 'arp'), {t: T + 3200, kind: 'arp', src: '198.18.0.31', address: VIP, op: 'request', mac: '02:00:00:00:00:31'})
  const g = ev.filter((e) => e.kind === 'garp')
  assert.equal(g.length, 2)
  assert.equal(g[0]!.kind === 'garp' && g[0]!.mac, M2)
  assert.throws(() => parsePcap(Buffer.from('0a0d0d0a000000000000000000000000000000000000000000', 'hex')), /pcapng/)
  assert.throws(() => parsePcap(Buffer.alloc(10)), /not a pcap/)
})

test('protocol bounds: skew and Master_Down_Interval as in RFC 3768', () => {
  assert.equal(skewMs(100, 1000), 609.375)
  assert.equal(masterDownMs(100, 1000), 3609.375)
})

test('crash drill measured from a recorded capture and probe log: PASS within bound', () => {
  const c = crashCapture()
  const events = [...parsePcap(c.pcap), ...parseProbeLog(c.probe), ...parseAddrMonitor('dir2', c.addr, [VIP])]
  const m = measureTakeover(input(events))
  assert.equal(m.verdict, 'PASS', m.reasons.join('; '))
  assert.equal(m.to, 'dir2')
  assert.equal(m.t0, T + 3000)
  assert.equal(m.boundMs, 3609.4)
  assert.equal(m.firstAdvertMs, 3610.9)
  assert.equal(m.garpMs, 3611.3)
  assert.ok(m.vipAddedMs !== null && m.vipAddedMs >= 3610 && m.vipAddedMs < 3612, String(m.vipAddedMs))
  assert.equal(m.outage.failedProbes, 356)
  assert.equal(m.outage.durationMs, 3550)
  const fb = measureFailback(input(events), m.to, T + 15000)
  assert.equal(fb.verdict, 'PASS', fb.message)
  assert.equal(fb.firstAdvertMs, 3700)
})

test('a late takeover FAILs and says by how much; nopreempt failback FAILs when it happens', () => {
  const c = crashCapture()
  const events = parsePcap(c.pcap).map((e) => (e.kind !== 'probe' && e.t > T + 3100 && e.t < T + 13000 ? {...e, t: e.t + 200} : e))
  events.push(...parseProbeLog(c.probe))
  const m = measureTakeover(input(events))
  assert.equal(m.verdict, 'FAIL')
  assert.match(m.reasons.join(';'), /first advert after 3810\.9 ms, bound 3609\.4 ms \+ 50 ms/)
  const fb = measureFailback(input(events, {preempt: false}), 'dir2', T + 15000)
  assert.equal(fb.verdict, 'FAIL')
  assert.match(fb.message, /nopreempt/)
})

test('graceful: the priority-0 advert is the reference and the bound is the skew', () => {
  const ev = [
    {t: T, kind: 'advert' as const, src: '198.18.0.11', vrid: 51, priority: 150},
    {t: T + 500, kind: 'advert' as const, src: '198.18.0.11', vrid: 51, priority: 0},
    {t: T + 1114, kind: 'advert' as const, src: '198.18.0.12', vrid: 51, priority: 100},
    {t: T + 1114.5, kind: 'garp' as const, src: VIP, address: VIP, mac: M2},
    {t: T + 600, kind: 'probe' as const, ok: false},
    {t: T + 1100, kind: 'probe' as const, ok: false},
  ]
  const m = measureTakeover(input(ev, {fault: 'graceful', tFault: T + 490}))
  assert.equal(m.t0, T + 500)
  assert.equal(m.boundMs, 609.4)
  assert.equal(m.firstAdvertMs, 614)
  assert.equal(m.verdict, 'PASS', m.reasons.join(';'))
  assert.equal(m.outage.durationMs, 500)
  const none = measureTakeover(input(ev.slice(0, 1), {fault: 'graceful', tFault: T + 490}))
  assert.equal(none.verdict, 'FAIL')
  assert.match(none.reasons.join(';'), /did not hand over.*VIP did not move/)
})
