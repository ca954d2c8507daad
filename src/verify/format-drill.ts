/** The drill's table for people: one row per instance and fault. JSON is the DrillReport itself. */
import type {DrillReport} from '../model/verify.js'

const ms = (x: number | null) => (x === null ? '-' : x.toFixed(0))

export function formatDrillHuman(report: DrillReport): string {
  const head = ['INSTANCE', 'FAULT', 'MOVE', 'ADVERT ms', 'BOUND ms', 'VIP ms', 'GARP ms', 'OUTAGE ms (failed)', 'TAKEOVER', 'FAILBACK', 'RESTORED']
  const rows = report.results.map((r) => [
    r.instance,
    r.fault,
    `${r.takeover.from}->${r.takeover.to ?? '?'}`,
    ms(r.takeover.firstAdvertMs),
    `${r.takeover.boundMs.toFixed(0)}+${report.toleranceMs}`,
    ms(r.takeover.vipAddedMs),
    ms(r.takeover.garpMs),
    `${r.takeover.outage.durationMs} (${r.takeover.outage.failedProbes}/${r.takeover.outage.probes})`,
    r.takeover.verdict,
    r.failback.verdict,
    r.restored.ok ? 'yes' : 'NO',
  ])
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()
  const out = [line(head), ...rows.map(line), '']
  for (const r of report.results) {
    for (const reason of r.takeover.reasons) out.push(`${r.instance}/${r.fault} takeover: ${reason}`)
    for (const note of r.takeover.notes) out.push(`${r.instance}/${r.fault} note: ${note}`)
    out.push(`${r.instance}/${r.fault} failback: ${r.failback.message}`)
    out.push(`${r.instance}/${r.fault} cluster: ${r.restored.message}`)
  }
  out.push('', report.ok ? `Drill PASSED (${report.results.length} drill${report.results.length === 1 ? "" : "s"}, ${report.inventory}).` : `Drill FAILED (${report.inventory}).`)
  return out.join('\n') + '\n'
}
