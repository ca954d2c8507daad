import type {DirectorVipState, SiteStatus, VipHealth} from './site-status.js'

/** The human screen of `kaops status`: directors, then VIPs with each director, then services. */

const HEALTH: Record<VipHealth, string> = {
  ok: 'ok',
  moved: 'MOVED (not on its preferred master)',
  down: 'DOWN (no director holds it)',
  'split-brain': 'SPLIT BRAIN (held by more than one director)',
  unknown: 'unknown (a director did not answer)',
}

function table(rows: string[][], indent = '  '): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd())
}

/** Configured priority, the effective one when trackers or a takeover change it, and why. */
function priorityCell(d: DirectorVipState): string {
  if (d.priority === null) return '?'
  const p = d.effectivePriority !== null && d.effectivePriority !== d.priority ? `${d.effectivePriority} (of ${d.priority})` : String(d.priority)
  return d.takeoverSecondsLeft === null ? p : `${p}, takeover ${d.takeoverSecondsLeft} s left`
}

export function formatSiteStatus(s: SiteStatus): string {
  const down = s.services.flatMap((sv) => sv.realServers.filter((r) => r.up === false)).length
  const head = `${s.inventory}: ${s.healthy ? 'VIPs healthy' : 'ATTENTION'}${down > 0 ? `, ${down} real server(s) down` : ''}`
  const out: string[] = [head, '', 'Directors']
  out.push(...table([['NAME', 'REACHABLE', 'KAOPSD', 'RELEASE'], ...s.directors.map((d) => [d.name, d.reachable ? 'yes' : `NO (${d.error ?? 'unknown'})`, d.kaopsd ?? '-', d.release ?? '-'])]))
  out.push('', 'VIPs')
  for (const v of s.vips) {
    out.push(`  ${v.name} (VRID ${v.vrid}) ${v.addresses.join(', ')}  holder: ${v.holders.join(' + ') || '-'}  ${HEALTH[v.health]}`)
    out.push(
      ...table(
        [
          ['DIRECTOR', 'STATE', 'PRIORITY', 'HOLDS VIP'],
          ...v.directors.map((d) => [
            `${d.director}${d.director === v.expectedMaster ? ' *' : ''}`,
            d.state ?? '?',
            priorityCell(d),
            d.holdsAddress ? 'yes' : 'no',
          ]),
        ],
        '    ',
      ),
    )
  }
  if (s.services.length > 0) {
    out.push('', 'Services')
    for (const sv of s.services) {
      const up = sv.realServers.filter((r) => r.up === true).length
      out.push(`  ${sv.name} ${sv.endpoint} (VIP ${sv.vip ?? '-'})  ${up}/${sv.realServers.length} up${sv.reportedBy ? `  as seen by ${sv.reportedBy}` : '  (no single VIP holder: states unknown)'}`)
      out.push(...table([['REAL SERVER', 'ADDRESS', 'STATE', 'WEIGHT', 'LAST CHECK'], ...sv.realServers.map((r) => [r.name, `${r.address}:${r.port}`, r.up === null ? '?' : r.up ? 'up' : 'DOWN', r.weight === null ? '-' : String(r.weight), r.detail ?? '-'])], '    '))
    }
  }
  out.push('', '* preferred master (highest priority in the inventory)')
  return `${out.join('\n')}\n`
}
