import {KaopsError} from '../../model/errors.js'
import {localExec, type LbExec} from './lb-exec.js'
import {normalizeAddress, renderNftables, type NftEnvironment} from './nft-render.js'
import {nftablesProblems} from './nft-support.js'
import {parseNftJson} from './nft-read.js'
import {diffTable, tableName, type NftFamily, type NftTable, type NftTableState} from './nft-table.js'
import type {LbBackend, ReconcileReport, VirtualService} from './types.js'

const families: NftFamily[] = ['ip', 'ip6', 'netdev']

/**
 * The nftables data plane's edge: read the kaopsd tables back from the kernel, render the
 * desired ones, diff, and apply the difference as ONE `nft -f -` transaction.
 */
export class NftablesBackend implements LbBackend {
  readonly name = 'nftables' as const

  constructor(private readonly exec: LbExec = localExec) {}

  async reconcile(desired: readonly VirtualService[]): Promise<ReconcileReport> {
    const problems = nftablesProblems(desired)
    if (problems.length > 0) {
      throw new KaopsError(`the nftables backend cannot program this configuration:\n  ${problems.join('\n  ')}`, {
        suggestions: ['use lb_algo rr, wrr or sh and lb_kind NAT or DR, or run on a kernel with IPVS (lvs_backend ipvs)'],
      })
    }
    const env = await this.environment(desired)
    for (let attempt = 1; ; attempt++) {
      const current = await this.readCurrent()
      const rendered = renderNftables(desired, env, current)
      const lines = families.flatMap((f) => diffTable(f, current.get(f), rendered.tables.get(f)))
      const applied = lines.length > 0 ? `${lines.join('\n')}\n` : ''
      try {
        if (applied) await this.exec('nft', ['-f', '-'], applied)
        return {applied, changes: lines.length, warnings: rendered.warnings}
      } catch (err) {
        // Evicting a persistent client re-adds it with the value read back; should it have timed
        // out and been scheduled anew in between, the add clashes and nothing is applied. A
        // fresh read sees the new value: try again, a few times.
        if (attempt >= 3 || !evicts(rendered.tables)) throw err
      }
    }
  }

  async clear(): Promise<void> {
    const current = await this.readCurrent()
    const lines = families.filter((f) => current.get(f)).map((f) => `delete table ${f} ${tableName}`)
    if (lines.length > 0) await this.exec('nft', ['-f', '-'], `${lines.join('\n')}\n`)
  }

  async readCurrent(): Promise<Map<NftFamily, NftTableState | undefined>> {
    const out = new Map<NftFamily, NftTableState | undefined>()
    for (const f of families) {
      try {
        out.set(f, parseNftJson(f, await this.exec('nft', ['-j', 'list', 'table', f, tableName])))
      } catch (err) {
        if (!/No such file or directory|does not exist/i.test((err as Error).message)) throw err
        out.set(f, undefined)
      }
    }
    return out
  }

  /** DR needs MACs: the director's on each DR interface, and each real server's neighbour entry. */
  private async environment(desired: readonly VirtualService[]): Promise<NftEnvironment> {
    const env: NftEnvironment = {interfaceMacs: {}, neighbours: {}}
    const devs = new Set(desired.filter((v) => v.kind === 'DR' && v.interface).map((v) => v.interface!))
    for (const dev of devs) {
      const link = JSON.parse(await this.exec('ip', ['-j', 'link', 'show', 'dev', dev])) as Array<{address?: string}>
      if (link[0]?.address) env.interfaceMacs[dev] = link[0].address
      const wanted = desired.filter((v) => v.kind === 'DR' && v.interface === dev).flatMap((v) => v.destinations.map((d) => normalizeAddress(d.address)))
      let neigh = await this.neighbours(dev)
      const missing = wanted.filter((a) => !neigh[a])
      if (missing.length > 0) {
        // One echo request each makes the kernel resolve the address; the real servers are
        // ours to probe (they are in the config), and nothing else is touched.
        await Promise.all(missing.map((a) => this.exec('ping', ['-c1', '-W1', '-I', dev, a]).catch(() => '')))
        neigh = await this.neighbours(dev)
      }
      Object.assign(env.neighbours, neigh)
    }
    return env
  }

  private async neighbours(dev: string): Promise<Record<string, string>> {
    const rows = JSON.parse(await this.exec('ip', ['-j', 'neigh', 'show', 'dev', dev])) as Array<{dst: string; lladdr?: string; state?: string[]}>
    const out: Record<string, string> = {}
    for (const r of rows) {
      if (r.lladdr && !(r.state ?? []).some((s) => s === 'FAILED' || s === 'INCOMPLETE')) out[normalizeAddress(r.dst)] = r.lladdr.toLowerCase()
    }
    return out
  }
}

function evicts(tables: ReadonlyMap<NftFamily, NftTable | undefined>): boolean {
  return [...tables.values()].some((t) => [...(t?.maps.values() ?? [])].some((m) => (m.filledByPackets?.evict.size ?? 0) > 0))
}
