import {createHash} from 'node:crypto'

/**
 * A kaopsd-owned nftables table as plain data, and the one transaction that turns the
 * current table into the desired one (pure). The transaction touches only what differs:
 * map elements are added/removed one by one, a chain is flushed and refilled only when its
 * rules' signature changed, and nothing outside `table <family> kaopsd` is ever named.
 *
 * Why established connections survive: in NAT mode the translation of a flow is decided on
 * its first packet and then held by conntrack (nat chains never see later packets), so
 * replacing a rule or a map element affects only new flows. In DR mode (no conntrack) the
 * hash maps keep every slot whose server is still wanted (see slots.ts), so flows hashed to a
 * healthy server stay on it. And `nft -f` applies the whole file as one kernel transaction:
 * no packet ever sees a half-updated table.
 */

export type NftFamily = 'ip' | 'ip6' | 'netdev'
export const tableName = 'kaopsd'

export interface NftChain {
  /** Base chain spec, e.g. "type nat hook prerouting priority dstnat; policy accept;". */
  hook?: string
  rules: string[]
}

export interface NftMap {
  /** Declaration inside the braces, e.g. "typeof numgen inc mod 1 : ip daddr . tcp dport;". */
  decl: string
  /** The map's type as `nft -j` reports it ("integer : ipv4_addr . inet_service"): compared to detect a retype. */
  typeSig: string
  /** key text -> value text, both as `nft -j` reports them after normalisation. */
  elements: Map<string, string>
  /**
   * Set on maps the packet path fills (persistence: client -> real server, with a timeout).
   * Their elements belong to the kernel: the reconcile never adds any (`elements` stays empty)
   * and removes exactly `evict` (key -> value as read back), the clients of departed servers.
   */
  filledByPackets?: {evict: Map<string, string>}
}

export interface NftTable {
  family: NftFamily
  chains: Map<string, NftChain>
  maps: Map<string, NftMap>
}

/** What the kernel holds, as read back: chains carry only "signature#rule-count" of their rules. */
export interface NftTableState {
  family: NftFamily
  chains: Map<string, {signature: string}>
  maps: Map<string, {typeSig: string; elements: Map<string, string>}>
}

const commentPrefix = 'kaopsd '

/** A chain's signature covers its hook and every rule, so any change is seen on read-back. */
export function chainSignature(c: NftChain): string {
  return createHash('sha256').update(JSON.stringify([c.hook ?? '', c.rules])).digest('hex').slice(0, 16)
}

export function signatureFromComment(comment: string | undefined): string {
  return comment?.startsWith(commentPrefix) ? comment.slice(commentPrefix.length) : ''
}

/**
 * The transaction lines (for `nft -f -`) from `current` (undefined: no table yet) to `desired`
 * (undefined: kaopsd owns nothing in this family any more). Empty when they already agree.
 */
export function diffTable(family: NftFamily, current: NftTableState | undefined, desired: NftTable | undefined): string[] {
  const t = `${family} ${tableName}`
  if (!desired) return current ? [`delete table ${t}`] : []
  const cur: NftTableState = current ?? {family, chains: new Map(), maps: new Map()}
  const out: string[] = []
  const flush: string[] = []
  const delElems: string[] = []
  const delChains: string[] = []
  const delMaps: string[] = []
  const addMaps: string[] = []
  const addChains: string[] = []
  const addElems: string[] = []
  const addRules: string[] = []
  const evictions: string[] = []

  const retyped = new Set<string>()
  for (const [name, want] of desired.maps) {
    const have = cur.maps.get(name)
    if (!have) {
      addMaps.push(`add map ${t} ${name} { ${want.decl} }`)
      addElems.push(...elementLines('add', t, name, [...want.elements]))
      continue
    }
    if (have.typeSig !== want.typeSig) {
      retyped.add(name)
      delMaps.push(`delete map ${t} ${name}`)
      addMaps.push(`add map ${t} ${name} { ${want.decl} }`)
      addElems.push(...elementLines('add', t, name, [...want.elements]))
      continue
    }
    if (want.filledByPackets) {
      // An element read a moment ago may have timed out since, and deleting an absent element
      // fails the whole transaction; adding it first (a no-op when it is still there) makes the
      // delete always find it.
      const evict = [...want.filledByPackets.evict]
      evictions.push(...elementLines('add', t, name, evict), ...elementLines('delete', t, name, evict.map(([k]) => [k, undefined])))
      continue
    }
    const gone = [...have.elements].filter(([k, v]) => want.elements.get(k) !== v).map(([k]) => k)
    const fresh = [...want.elements].filter(([k, v]) => have.elements.get(k) !== v)
    delElems.push(...elementLines('delete', t, name, gone.map((k) => [k, undefined])))
    addElems.push(...elementLines('add', t, name, fresh))
  }
  for (const name of cur.maps.keys()) if (!desired.maps.has(name)) delMaps.push(`delete map ${t} ${name}`)

  for (const [name, want] of desired.chains) {
    const have = cur.chains.get(name)
    const sig = chainSignature(want)
    const rules = want.rules.map((r) => `add rule ${t} ${name} ${r} comment "${commentPrefix}${sig}"`)
    if (!have) {
      addChains.push(want.hook ? `add chain ${t} ${name} { ${want.hook} }` : `add chain ${t} ${name}`)
      addRules.push(...rules)
    } else if (have.signature !== `${sig}#${want.rules.length}` || [...retyped].some((m) => referencesMap(want, m))) {
      flush.push(`flush chain ${t} ${name}`)
      addRules.push(...rules)
    }
  }
  for (const name of cur.chains.keys()) {
    if (desired.chains.has(name)) continue
    flush.push(`flush chain ${t} ${name}`)
    delChains.push(`delete chain ${t} ${name}`)
  }

  // A retyped map is deleted after its chains are flushed and re-added before the rules use it.
  // Removed maps go once no rule refers to them (every such rule was flushed above) and before
  // removed chains, which a verdict map's elements may still jump to.
  const removedMaps = delMaps.filter((l) => !retyped.has(l.split(' ').pop()!))
  const retypedMaps = delMaps.filter((l) => !removedMaps.includes(l))
  const ordered = [...flush, ...delElems, ...retypedMaps, ...addMaps, ...addChains, ...addRules, ...addElems, ...evictions, ...removedMaps, ...delChains]
  if (ordered.length === 0) return []
  if (!current) out.push(`add table ${t}`)
  out.push(...ordered)
  return out
}

function referencesMap(c: NftChain, map: string): boolean {
  return c.rules.some((r) => r.includes(`@${map} `) || r.endsWith(`@${map}`))
}

function elementLines(verb: 'add' | 'delete', t: string, map: string, entries: Array<[string, string | undefined]>): string[] {
  const lines: string[] = []
  // Chunked so one line never grows past what nft's parser handles comfortably.
  for (let i = 0; i < entries.length; i += 64) {
    const chunk = entries.slice(i, i + 64).map(([k, v]) => (v === undefined ? k : `${k} : ${v}`))
    lines.push(`${verb} element ${t} ${map} { ${chunk.join(', ')} }`)
  }
  return lines
}
