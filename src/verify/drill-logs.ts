/**
 * Parsers for the drill's host-side logs. Pure.
 *  - probe log: `<epoch ms> <1|0> <latency ms>` per attempt;
 *  - address monitor: `ip -ts monitor address` run with TZ=UTC, lines like
 *    `[2026-11-23T09:50:01.123456] 2: eth0    inet 198.18.0.100/24 ...` and `[...] Deleted 2: eth0 ...`.
 */
import type {DrillEvent} from '../model/verify.js'

export function parseProbeLog(text: string): DrillEvent[] {
  const out: DrillEvent[] = []
  for (const line of text.split('\n')) {
    const m = /^(\d{10,})(?:\.\d+)? ([01])\b/.exec(line.trim())
    if (m) out.push({t: Number(m[1]), kind: 'probe', ok: m[2] === '1'})
  }
  return out
}

export function parseAddrMonitor(host: string, text: string, addresses: string[]): DrillEvent[] {
  const out: DrillEvent[] = []
  for (const line of text.split('\n')) {
    const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?\]\s+(Deleted\s+)?\d+:\s+\S+\s+inet6?\s+([0-9a-fA-F:.]+)\//.exec(line)
    if (!m || !addresses.includes(m[4]!)) continue
    const t = Date.parse(`${m[1]}Z`) + (m[2] ? Number(m[2]) * 1000 : 0)
    out.push({t, kind: m[3] ? 'vip-del' : 'vip-add', host, address: m[4]!})
  }
  return out
}
