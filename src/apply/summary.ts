/** The rollout summary for people, pure: one line per host saying exactly what state it is in. */
import type {HostOutcome, RolloutResult} from './rollout.js'

export function describeHost(h: HostOutcome): string {
  const before = h.release_before ?? 'none'
  const err = h.error ? `: ${h.error}` : ''
  switch (h.state) {
    case 'unchanged':
      return `unchanged (nothing to do), on release ${before}`
    case 'done':
      return h.release_after === h.release_before ? `unchanged, on release ${before}` : `now on release ${h.release_after} (was ${before})`
    case 'failed-nothing-switched':
      return `FAILED at ${h.step ?? '?'}, nothing switched: still on release ${before}${err}`
    case 'rolled-back':
      return `FAILED at ${h.step ?? '?'}, rolled back automatically: on release ${h.release_after ?? before} again${err}`
    case 'rollback-failed':
      return `FAILED at ${h.step ?? '?'} and the automatic rollback failed: STATE UNKNOWN, check the host (it was on ${before})${err}`
    case 'failed':
      return `FAILED at ${h.step ?? '?'}${err}`
    case 'not-touched':
      return `not touched (the rollout stopped first), on release ${before}`
    default:
      return `${h.state}, on release ${before}`
  }
}

export function formatSummary(r: RolloutResult): string {
  const width = Math.max(4, ...r.hosts.map((h) => h.host.length))
  const which = r.rollout ? ` rollout ${r.rollout}` : r.undone_rollout ? ` of rollout ${r.undone_rollout}` : ''
  const lines = [`${r.mode === 'apply' ? 'Apply' : 'Rollback'}${which} ${r.ok ? 'complete' : 'STOPPED'} in ${r.seconds.toFixed(1)} s (${r.hosts.length} host(s)):`]
  for (const h of r.hosts) {
    lines.push(`  ${h.host.padEnd(width)}  ${describeHost(h)}`)
    for (const n of h.notes) lines.push(`  ${''.padEnd(width)}    - ${n}`)
  }
  if (r.locked) lines.push(`Stopped: ${r.locked.host} is locked by ${r.locked.holder}. Nothing was changed.`)
  return lines.join('\n') + '\n'
}
