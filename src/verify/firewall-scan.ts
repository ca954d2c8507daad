/**
 * Rules that stop VRRP although kaops' own accept rules are there: an accept in one nftables
 * table does not override a drop in another, and iptables rules live in their own tables too.
 * A text scan over `nft list ruleset` and `iptables -S`, good enough to name the culprit line.
 */
import {NFT_TABLE} from '../render/paths.js'

export interface VrrpBlocker {
  where: string
  rule: string
}

const VRRP_NFT = /(?:ip protocol|meta l4proto|ip6 nexthdr)\s+(?:vrrp|112|\{[^}]*\b(?:vrrp|112)\b[^}]*\})/
const VERDICT_BLOCK = /\b(drop|reject)\b/

/** Pure. */
export function findVrrpBlockers(nftRuleset: string, iptables: string): VrrpBlocker[] {
  const out: VrrpBlocker[] = []
  let table = ''
  let chain = ''
  let hasVrrpAccept = false
  let policyDropChain: string | undefined
  const flushChain = () => {
    if (policyDropChain && !hasVrrpAccept) out.push({where: `nftables ${policyDropChain}`, rule: 'policy drop with no rule accepting VRRP (protocol 112)'})
    policyDropChain = undefined
    hasVrrpAccept = false
  }
  for (const raw of nftRuleset.split('\n')) {
    const line = raw.trim()
    let m: RegExpExecArray | null
    if ((m = /^table\s+(\S+)\s+(\S+)/.exec(line))) {
      flushChain()
      table = `${m[1]} ${m[2]}`
      continue
    }
    if ((m = /^chain\s+(\S+)/.exec(line))) {
      flushChain()
      chain = m[1]!
      continue
    }
    if (table.endsWith(` ${NFT_TABLE}`)) continue
    if (/type filter hook (input|output)/.test(line) && /policy drop/.test(line)) policyDropChain = `table ${table} chain ${chain}`
    if (VRRP_NFT.test(line)) {
      if (VERDICT_BLOCK.test(line)) out.push({where: `nftables table ${table} chain ${chain}`, rule: line})
      else if (/\baccept\b/.test(line)) hasVrrpAccept = true
    }
  }
  flushChain()
  for (const raw of iptables.split('\n')) {
    const line = raw.trim()
    if (/-p\s+(vrrp|112)\b/.test(line) && /-j\s+(DROP|REJECT)\b/.test(line)) out.push({where: 'iptables', rule: line})
    if (/^-P\s+(INPUT|OUTPUT)\s+DROP/.test(line) && !/-p\s+(vrrp|112)\b[^\n]*-j\s+ACCEPT/.test(iptables)) out.push({where: 'iptables', rule: `${line} with no rule accepting VRRP`})
  }
  return out
}
