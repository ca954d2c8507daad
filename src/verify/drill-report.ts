/**
 * The drill report as an HTML page with one SVG timeline per drill (adverts per director, VIP
 * moves, GARP, failed probes, fault and restore), no script, viewable offline. The geometry is
 * computed here (pure, tested); templates/drill-report.html.hbs only places it.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import Handlebars from 'handlebars'
import type {DrillEvent, DrillReport, DrillResult} from '../model/verify.js'
import {TEMPLATES_DIR} from '../render/templates.js'

const WIDTH = 1000
const LEFT = 110
const RIGHT = 20
const LANE = 34
const TOP = 46

interface Mark {
  x: number
  y: number
  w: number
  h: number
  cls: string
  title: string
}

interface Line {
  x: number
  y1: number
  y2: number
  cls: string
  label: string
}

export interface TimelineView {
  width: number
  height: number
  lanes: Array<{y: number; label: string}>
  marks: Mark[]
  lines: Line[]
  ticks: Array<{x: number; label: string}>
  axisY: number
  tickY2: number
}

const fmt = (ms: number | null) => (ms === null ? '—' : `${ms.toFixed(1)} ms`)

/** Geometry of one drill's timeline. Pure. */
export function timelineView(r: DrillResult, directorOf: (addr: string) => string | undefined): TimelineView {
  const ts = r.events.map((e) => e.t)
  const start = Math.min(r.startedAt, ...ts)
  const end = Math.max(start + 1000, ...ts)
  const span = end - start
  const x = (t: number) => Math.round((LEFT + ((t - start) / span) * (WIDTH - LEFT - RIGHT)) * 10) / 10
  const directors = [...new Set([r.master, ...(r.takeover.to ? [r.takeover.to] : []), ...r.events.flatMap((e) => (e.kind === 'advert' ? [directorOf(e.src) ?? e.src] : e.kind === 'vip-add' || e.kind === 'vip-del' ? [e.host] : []))])]
  const laneNames = [...directors.map((d) => `adverts ${d}`), ...directors.map((d) => `VIP on ${d}`), 'GARP', 'probe']
  const laneY = (name: string) => TOP + laneNames.indexOf(name) * LANE
  const marks: Mark[] = []
  const lines: Line[] = []
  const t0 = (t: number) => `+${((t - start) / 1000).toFixed(3)} s`
  for (const e of r.events) {
    if (e.kind === 'advert') {
      const d = directorOf(e.src) ?? e.src
      marks.push({x: x(e.t) - 1, y: laneY(`adverts ${d}`) + 6, w: 2, h: 18, cls: e.priority === 0 ? 'advert zero' : 'advert', title: `${t0(e.t)} advert from ${d}, priority ${e.priority}`})
    } else if (e.kind === 'garp') {
      marks.push({x: x(e.t) - 2, y: laneY('GARP') + 6, w: 4, h: 18, cls: 'garp', title: `${t0(e.t)} gratuitous ARP for ${e.address} from ${e.mac}`})
    } else if (e.kind === 'vip-add' || e.kind === 'vip-del') {
      marks.push({x: x(e.t) - 3, y: laneY(`VIP on ${e.host}`) + 6, w: 6, h: 18, cls: e.kind, title: `${t0(e.t)} ${e.address} ${e.kind === 'vip-add' ? 'added on' : 'removed from'} ${e.host}`})
    } else if (e.kind === 'fault' || e.kind === 'restore') {
      // Fault labels on the upper row, restore labels on the lower: they are often close in time.
      lines.push({x: x(e.t), y1: e.kind === 'fault' ? TOP - 30 : TOP - 16, y2: TOP + laneNames.length * LANE, cls: e.kind, label: `${e.kind} ${e.host}: ${e.what}`})
    }
  }
  // Failed probes as runs (one rect per outage, not per probe): readable, and a small file.
  const probes = r.events.filter((e): e is Extract<DrillEvent, {kind: 'probe'}> => e.kind === 'probe')
  for (let i = 0; i < probes.length; i++) {
    if (probes[i]!.ok) continue
    let j = i
    while (j + 1 < probes.length && !probes[j + 1]!.ok) j++
    const a = probes[i]!.t
    const b = probes[j]!.t
    marks.push({x: x(a), y: laneY('probe') + 6, w: Math.max(1.5, x(b) - x(a)), h: 18, cls: 'fail', title: `${t0(a)} to ${t0(b)}: ${j - i + 1} probe${j > i ? 's' : ''} failed`})
    i = j
  }
  const okProbes = r.events.filter((e) => e.kind === 'probe' && e.ok)
  if (okProbes.length) marks.push({x: x(okProbes[0]!.t), y: laneY('probe') + 14, w: x(okProbes.at(-1)!.t) - x(okProbes[0]!.t), h: 2, cls: 'ok', title: `${okProbes.length} probes answered`})
  const axisY = TOP + laneNames.length * LANE + 4
  const step = span > 20_000 ? 5000 : span > 8000 ? 2000 : 1000
  const ticks: TimelineView['ticks'] = []
  for (let t = 0; t <= span; t += step) ticks.push({x: x(start + t), label: `${t / 1000} s`})
  return {width: WIDTH, height: axisY + 24, lanes: laneNames.map((label) => ({y: laneY(label), label})), marks, lines, ticks, axisY, tickY2: axisY + 4}
}

const hbs = Handlebars.create()
let compiled: Handlebars.TemplateDelegate | undefined

/** The whole page. Pure apart from reading the template once. */
export function renderDrillReport(report: DrillReport, directorOf: (addr: string) => string | undefined, generatedAt = new Date()): string {
  compiled ??= hbs.compile(readFileSync(join(TEMPLATES_DIR, 'drill-report.html.hbs'), 'utf8'), {strict: true})
  const drills = report.results.map((r) => ({
    title: `${r.instance}: ${r.fault} fault on ${r.master}`,
    verdict: r.takeover.verdict === 'PASS' && r.failback.verdict === 'PASS' && r.restored.ok ? 'PASS' : 'FAIL',
    rows: [
      ['VIP', r.vip],
      ['moved', `${r.takeover.from} → ${r.takeover.to ?? 'nobody'}`],
      ['first advert of the new master', `${fmt(r.takeover.firstAdvertMs)} (bound ${fmt(r.takeover.boundMs)} + ${report.toleranceMs} ms)`],
      ['VIP configured on it', fmt(r.takeover.vipAddedMs)],
      ['gratuitous ARP', fmt(r.takeover.garpMs)],
      ['outage seen by the probe', `${r.takeover.outage.durationMs} ms, ${r.takeover.outage.failedProbes} of ${r.takeover.outage.probes} probes failed`],
      ['takeover', `${r.takeover.verdict}${r.takeover.reasons.length ? `: ${r.takeover.reasons.join('; ')}` : ''}`],
      ...r.takeover.notes.map((n) => ['note', n]),
      ['failback', `${r.failback.verdict}: ${r.failback.message}`],
      ['cluster restored', `${r.restored.ok ? 'yes' : 'NO'}: ${r.restored.message}`],
    ].map(([k, v]) => ({k, v})),
    svg: timelineView(r, directorOf),
  }))
  return compiled({inventory: report.inventory, ok: report.ok, generatedAt: generatedAt.toISOString(), toleranceMs: report.toleranceMs, drills})
}

/** For `--json` consumers and tests: the events of one kind. */
export const eventsOf = <K extends DrillEvent['kind']>(r: DrillResult, kind: K) => r.events.filter((e): e is Extract<DrillEvent, {kind: K}> => e.kind === kind)
