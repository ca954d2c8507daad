/**
 * What verify reads beyond the state probe, as POSIX sh run in the SAME SSH connection right
 * after it, and the pure parsers of their output. Framing as in src/remote/state-probe.ts: one
 * record per line, free text base64-encoded.
 *
 *   KAOPS-VERIFY 1
 *   ST1 <b64 json>|-      first `kaopsd status --json`
 *   ST2 <b64 json>|-      the second, GAP ms later (counters must have moved)
 *   GAP <ms>
 *   L <b64 `ip -o link`>
 *   NFT <b64 `nft list ruleset`>|-
 *   IPT <b64 `iptables -S`>|-
 *   END
 *
 * The probe host answers a second script: one `ARP <address> arping|neigh|none <b64 output>`
 * line per address, then END.
 */
import type {KaopsdStatus} from '../model/kaopsd-status.js'
import type {ArpObservation, HostExtraFacts} from '../model/verify.js'
import {KAOPSD_PATH, SCRIPT_PRELUDE, unb64} from '../remote/state-probe.js'
import {shq} from '../remote/shell-quote.js'

/** `statusGapSeconds` 0: no status reads (real servers, probe hosts). */
export function buildFactsScript(statusGapSeconds: number): string {
  const lines = [...SCRIPT_PRELUDE, `bin=${shq(KAOPSD_PATH)}`, 'st() { if [ -x "$bin" ] && s=$(timeout 5 "$bin" status --json 2>/dev/null) && [ -n "$s" ]; then printf "%s" "$s" | b64; else printf -; fi; }', 'echo "KAOPS-VERIFY 1"']
  if (statusGapSeconds > 0) {
    lines.push('t1=$(date +%s%N)', 'echo "ST1 $(st)"', `sleep ${statusGapSeconds}`, 't2=$(date +%s%N)', 'echo "ST2 $(st)"', 'echo "GAP $(( (t2 - t1) / 1000000 ))"')
  }
  lines.push(
    'echo "L $(ip -o link show 2>/dev/null | b64)"',
    'if command -v nft >/dev/null 2>&1 && r=$(nft list ruleset 2>/dev/null); then echo "NFT $(printf "%s" "$r" | b64)"; else echo "NFT -"; fi',
    'if command -v iptables >/dev/null 2>&1 && r=$(iptables -S 2>/dev/null); then echo "IPT $(printf "%s" "$r" | b64)"; else echo "IPT -"; fi',
    'echo END',
    '',
  )
  return lines.join('\n')
}

/** `ip -o link` to interface -> MAC (ether links only). Pure. */
export function parseLinkMacs(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:.*link\/ether\s+([0-9a-fA-F:]{17})/.exec(line)
    if (m) out[m[1]!] = m[2]!.toLowerCase()
  }
  return out
}

function parseStatus(host: string, field: string, b64: string | undefined): KaopsdStatus | undefined {
  const text = unb64(b64)
  if (text === '') return undefined
  try {
    const s = JSON.parse(text) as KaopsdStatus
    if (typeof s !== 'object' || s === null || !Array.isArray(s.instances)) throw new Error('no instances array')
    return s
  } catch (error) {
    throw new Error(`${host}: ${field}: kaopsd status --json is not the expected JSON: ${(error as Error).message}`)
  }
}

/** Parse the facts script's output; errors name the host and line. Pure. */
export function parseFactsOutput(host: string, stdout: string): HostExtraFacts {
  const lines = stdout.split('\n')
  if (lines[0] !== 'KAOPS-VERIFY 1') throw new Error(`${host}: verify facts: not a kaops report (got ${JSON.stringify(lines[0]?.slice(0, 40))})`)
  const facts: HostExtraFacts = {gapMs: 0, macs: {}, nftRuleset: '', iptables: ''}
  let ended = false
  for (let i = 1; i < lines.length; i++) {
    const [tag, a] = lines[i]!.split(' ')
    const where = `line ${i + 1}`
    if (tag === '' || tag === undefined) continue
    if (tag === 'ST1') facts.status1 = parseStatus(host, where, a)
    else if (tag === 'ST2') facts.status2 = parseStatus(host, where, a)
    else if (tag === 'GAP') facts.gapMs = Number(a)
    else if (tag === 'L') facts.macs = parseLinkMacs(unb64(a))
    else if (tag === 'NFT') facts.nftRuleset = unb64(a)
    else if (tag === 'IPT') facts.iptables = unb64(a)
    else if (tag === 'END') ended = true
    else throw new Error(`${host}: verify facts, ${where}: unknown record ${JSON.stringify(tag)}`)
  }
  if (!ended) throw new Error(`${host}: verify facts: truncated (no END line)`)
  return facts
}

/** Ask who answers ARP for each address, from the probe host. */
export function buildArpScript(addresses: string[]): string {
  const lines = [...SCRIPT_PRELUDE, 'echo "KAOPS-ARP 1"']
  for (const a of addresses) {
    const q = shq(a)
    lines.push(
      `dev=$(ip -o route get ${q} 2>/dev/null | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p')`,
      'if command -v arping >/dev/null 2>&1; then',
      `  o=$(arping -c 3 -w 3 -I "$dev" ${q} 2>&1); echo "ARP ${a} arping $(printf "%s" "$o" | b64)"`,
      'else',
      `  ping -c 1 -W 1 ${q} >/dev/null 2>&1; o=$(ip neigh show ${q} 2>&1); echo "ARP ${a} neigh $(printf "%s" "$o" | b64)"`,
      'fi',
    )
  }
  lines.push('echo END', '')
  return lines.join('\n')
}

const MAC = /\b([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})\b/g

/** Replying MACs from arping (iputils or Habets) or the neighbour entry. Pure. */
export function parseArpOutput(stdout: string): ArpObservation[] {
  const out: ArpObservation[] = []
  for (const line of stdout.split('\n')) {
    const f = line.split(' ')
    if (f[0] !== 'ARP') continue
    const raw = unb64(f[3])
    const method = f[2] === 'arping' || f[2] === 'neigh' ? f[2] : 'none'
    const macs = new Set<string>()
    for (const l of raw.split('\n')) {
      if (/^ARPING/i.test(l)) continue
      if (method === 'neigh' && !/lladdr/.test(l)) continue
      for (const m of l.matchAll(MAC)) macs.add(m[1]!.toLowerCase())
    }
    // The broadcast address is never an answer.
    macs.delete('ff:ff:ff:ff:ff:ff')
    out.push({address: f[1]!, method, macs: [...macs].sort(), raw: raw.trim()})
  }
  return out
}
