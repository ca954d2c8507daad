import {signatureFromComment, tableName, type NftFamily, type NftTableState} from './nft-table.js'

/**
 * Parses `nft -j list table <family> kaopsd` into what the diff compares: chain signatures
 * (from the comment kaopsd puts on its rules) and map elements as normalised text. Reading
 * the kernel, not a cache, means a restarted daemon reconciles instead of rebuilding.
 */
export function parseNftJson(family: NftFamily, json: string): NftTableState {
  const doc = JSON.parse(json) as {nftables?: Array<Record<string, unknown>>}
  const state: NftTableState = {family, chains: new Map(), maps: new Map()}
  const ruleSigs = new Map<string, string[]>()
  for (const item of doc.nftables ?? []) {
    const chain = item['chain'] as {table: string; name: string} | undefined
    if (chain && chain.table === tableName && !state.chains.has(chain.name)) state.chains.set(chain.name, {signature: ''})
    const rule = item['rule'] as {table: string; chain: string; comment?: string} | undefined
    if (rule && rule.table === tableName) {
      const list = ruleSigs.get(rule.chain) ?? []
      list.push(signatureFromComment(rule.comment))
      ruleSigs.set(rule.chain, list)
    }
    const map = item['map'] as {table: string; name: string; type: string | string[]; map: string; timeout?: number; elem?: unknown[]} | undefined
    if (map && map.table === tableName) {
      const type = Array.isArray(map.type) ? map.type.join(' . ') : map.type
      // A map's default timeout (persistence_timeout) is part of its type: a new value re-creates it.
      const timeout = map.timeout !== undefined ? ` timeout ${map.timeout}s` : ''
      const elements = new Map<string, string>()
      for (const e of map.elem ?? []) {
        if (Array.isArray(e) && e.length === 2) elements.set(valueText(e[0]), valueText(e[1]))
      }
      state.maps.set(map.name, {typeSig: `${type} : ${map.map}${timeout}`, elements})
    }
  }
  // Every rule of a chain carries the chain's signature and the count is part of it, so a rule
  // edited, added or removed by someone else makes the chain differ and get rewritten.
  for (const [name, c] of state.chains) {
    const sigs = ruleSigs.get(name) ?? []
    c.signature = sigs.length > 0 && sigs.every((x) => x !== '' && x === sigs[0]) ? `${sigs[0]}#${sigs.length}` : ''
  }
  return state
}

function valueText(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'string') return String(v)
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    if (Array.isArray(o['concat'])) return (o['concat'] as unknown[]).map(valueText).join(' . ')
    if (o['jump'] && typeof o['jump'] === 'object') return `jump ${(o['jump'] as {target: string}).target}`
    if (o['goto'] && typeof o['goto'] === 'object') return `goto ${(o['goto'] as {target: string}).target}`
    if (o['elem'] && typeof o['elem'] === 'object') return valueText((o['elem'] as {val: unknown}).val)
  }
  return JSON.stringify(v)
}
