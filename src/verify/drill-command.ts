/**
 * The edge of `kaops verify --failover-drill`: Ctrl-C aborts the drill (which then restores the
 * cluster before returning), progress to stderr, the table or JSON to stdout, the HTML report
 * to a file. Returns whether every drill passed.
 */
import {writeFile} from 'node:fs/promises'
import type {DrillFault} from '../model/verify.js'
import {renderDrillReport} from './drill-report.js'
import {runFailoverDrill} from './drill-run.js'
import {formatDrillHuman} from './format-drill.js'

export interface DrillCommandOptions {
  json?: boolean
  parallel?: number
  instances?: string[]
  faults?: DrillFault[]
  reportFile?: string
  toleranceMs?: number
  probePort?: number
  ignoreChecks?: string[]
  out: (s: string) => void
  err: (s: string) => void
}

export async function runDrillCommand(inventoryPath: string, o: DrillCommandOptions): Promise<boolean> {
  const ac = new AbortController()
  const onSigint = () => {
    o.err('\ninterrupted: undoing the fault and stopping the probe and capture (Ctrl-C again to leave at once)\n')
    process.off('SIGINT', onSigint)
    ac.abort()
  }
  process.on('SIGINT', onSigint)
  try {
    const {report, directorOf} = await runFailoverDrill(inventoryPath, {
      instances: o.instances,
      faults: o.faults,
      toleranceMs: o.toleranceMs,
      probePort: o.probePort,
      ignoreChecks: o.ignoreChecks,
      signal: ac.signal,
      progress: (line) => o.err(`${line}\n`),
    })
    o.out(o.json ? JSON.stringify(report, null, 2) + '\n' : formatDrillHuman(report))
    if (o.reportFile) {
      await writeFile(o.reportFile, renderDrillReport(report, directorOf))
      o.err(`Wrote the drill report to ${o.reportFile}\n`)
    }
    return report.ok
  } finally {
    process.off('SIGINT', onSigint)
  }
}
