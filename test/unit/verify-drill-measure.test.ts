import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parsePcap} from '../../src/verify/pcap.js'
import {masterDownMs, measureFailback, measureTakeover, skewMs} from '../../src/verify/drill-measure.js'
import {crashCapture, input, M2, T, VIP} from './verify-drill-fixture.js'
import {parseAddrMonitor, parseProbeLog} from '../../src/verify/drill-logs.js'

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

test('crash: a VIP never removed from the killed master is noted, not failed', () => {
  const c = crashCapture()
  const events = [...parsePcap(c.pcap), ...parseProbeLog(c.probe), {t: T + 100, kind: 'vip-add' as const, host: 'dir1', address: VIP}]
  const m = measureTakeover(input(events))
  assert.equal(m.verdict, 'PASS')
  assert.match(m.notes.join(), /198\.18\.0\.100 stayed configured on dir1 after the crash/)
  events.push({t: T + 3100, kind: 'vip-del', host: 'dir1', address: VIP})
  assert.deepEqual(measureTakeover(input(events)).notes, [])
})
