import {localExec, type LbExec} from './lb-exec.js'
import {diffIpvs, parseIpvsSave, renderIpvs} from './ipvs-render.js'
import type {LbBackend, ReconcileReport, VirtualService} from './types.js'

/**
 * The IPVS data plane's edge: `ipvsadm -S -n` to read, one `ipvsadm -R` batch to change.
 * It only ever removes services it programmed itself (the last desired set), so services an
 * operator added by hand survive a reconcile.
 */
export class IpvsBackend implements LbBackend {
  readonly name = 'ipvs' as const
  private owned = new Set<string>()

  constructor(private readonly exec: LbExec = localExec) {}

  async reconcile(desired: readonly VirtualService[]): Promise<ReconcileReport> {
    const want = renderIpvs(desired)
    const all = parseIpvsSave(await this.exec('ipvsadm', ['-S', '-n']))
    const mine = new Map([...all].filter(([k]) => this.owned.has(k) || want.has(k)))
    const lines = diffIpvs(mine, want)
    const applied = lines.length > 0 ? `${lines.join('\n')}\n` : ''
    if (applied) await this.exec('ipvsadm', ['-R'], applied)
    this.owned = new Set(want.keys())
    return {applied, changes: lines.length, warnings: []}
  }

  async clear(): Promise<void> {
    const lines = [...this.owned].map((k) => `-D ${k}`)
    if (lines.length > 0) await this.exec('ipvsadm', ['-R'], `${lines.join('\n')}\n`)
    this.owned.clear()
  }
}
