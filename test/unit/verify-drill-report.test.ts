import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parsePcap} from '../../src/verify/pcap.js'
import {parseAddrMonitor, parseProbeLog} from '../../src/verify/drill-logs.js'
import {measureFailback, measureTakeover} from '../../src/verify/drill-measure.js'
import {renderDrillReport, timelineView} from '../../src/verify/drill-report.js'
import type {DrillReport, DrillResult} from '../../src/model/verify.js'
import {crashCapture, input, T, VIP} from './verify-drill-fixture.js'

export function recordedResult(): DrillResult {
  const c = crashCapture()
  const events = [...parsePcap(c.pcap), ...parseProbeLog(c.probe), ...parseAddrMonitor('dir2', c.addr, [VIP])]
  events.push({t: T + 3050, kind: 'fault', host: 'dir1', what: 'kill -9 kaopsd'}, {t: T + 10000, kind: 'restore', host: 'dir1', what: 'systemctl start kaopsd'})
  events.sort((a, b) => a.t - b.t)
  const takeover = measureTakeover(input(events))
  return {instance: 'VI_1', fault: 'crash', master: 'dir1', vip: VIP, startedAt: T, takeover, failback: measureFailback(input(events), takeover.to, T + 15000), restored: {ok: true, message: 'VIP on dir1 only, kaopsd active everywhere'}, events}
}

const dirs: Record<string, string> = {'198.18.0.11': 'dir1', '198.18.0.12': 'dir2'}

test('timeline geometry: lanes per director, marks inside the picture, fault line where it happened', () => {
  const v = timelineView(recordedResult(), (a) => dirs[a])
  assert.deepEqual(v.lanes.map((l) => l.label), ['adverts dir1', 'adverts dir2', 'VIP on dir1', 'VIP on dir2', 'GARP', 'probe'])
  for (const m of v.marks) assert.ok(m.x >= 100 && m.x + m.w <= v.width, `mark outside: ${JSON.stringify(m)}`)
  assert.equal(v.marks.filter((m) => m.cls === 'garp').length, 2)
  assert.deepEqual(v.marks.filter((m) => m.cls === 'fail').map((m) => m.title), ['+3.060 s to +6.610 s: 356 probes failed'])
  const fault = v.lines.find((l) => l.cls === 'fault')!
  const span = 14990 // startedAt to the last probe
  assert.ok(Math.abs(fault.x - (110 + (3050 / span) * 870)) < 1, String(fault.x))
})

test('HTML report: one SVG per drill, numbers and verdicts, escaped, no script', () => {
  const r = recordedResult()
  const report: DrillReport = {format_version: 1, inventory: 'inventories/<lab>.yaml', ok: true, toleranceMs: 50, results: [r]}
  const html = renderDrillReport(report, (a) => dirs[a], new Date(0))
  assert.equal((html.match(/<svg /g) ?? []).length, 1)
  assert.match(html, /VI_1: crash fault on dir1: <span class="PASS">PASS/)
  assert.match(html, /3610\.9 ms \(bound 3609\.4 ms \+ 50 ms\)/)
  assert.match(html, /356 of \d+ probes failed/)
  assert.match(html, /inventories\/&lt;lab&gt;\.yaml/)
  assert.ok(!/<script/i.test(html))
  assert.match(html, /<title>\+3\.000 s advert from dir1, priority 150<\/title>/)
})
