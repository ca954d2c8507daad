/**
 * `kaops verify` for people: one line per check in the order they were made, then the counts. The JSON form is the VerifyReport itself (src/verify/run-verify.ts).
 */
import type {CheckResult, VerifyReport} from '../model/verify.js'

const MARK: Record<CheckResult['status'], string> = {pass: 'ok  ', fail: 'FAIL', skip: 'skip'}

export function formatVerifyHuman(report: VerifyReport): string {
  const rows = report.checks
  const wId = Math.max(5, ...rows.map((c) => c.id.length))
  const wSubj = Math.max(7, ...rows.map((c) => c.subject.length))
  const lines = [`${'     '} ${'CHECK'.padEnd(wId)}  ${'SUBJECT'.padEnd(wSubj)}  RESULT`]
  for (const c of rows) lines.push(`${MARK[c.status]}  ${c.id.padEnd(wId)}  ${c.subject.padEnd(wSubj)}  ${c.message}`)
  const {pass, fail, skip} = report.counts
  lines.push('', `${report.ok ? 'All invariants hold' : `${fail} check${fail === 1 ? '' : 's'} failed`}: ${pass} passed, ${fail} failed, ${skip} skipped (${report.inventory}).`)
  return lines.join('\n') + '\n'
}
