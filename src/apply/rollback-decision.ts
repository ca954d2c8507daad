/**
 * Which hosts `kaops rollback` (without --to) moves, and where, pure. Rollback undoes the last
 * apply as a whole site: the newest rollout among the hosts' CURRENT releases is the last apply
 * still in effect; the hosts whose current release it made go back to the release that was
 * current before it (the manifest's previous_release), every other host stays, since that
 * apply never touched it. A rollback makes no release of its own, so a second rollback finds
 * the apply before as the newest in effect and undoes that one.
 *
 * Releases made before kaops recorded rollout ids carry none: when no current release has
 * one, each host goes back to its newest older release, as kaops always did, and says so.
 */
import type {HostReleases, ReleaseInfo} from '../model/release.js'
import {isReleaseId, rollbackTarget} from './release-id.js'

export type HostDecision =
  | {host: string; action: 'move'; current: string; to: string; note: string}
  | {host: string; action: 'stay'; current: string | null; note: string}
  | {host: string; action: 'error'; error: string}

export interface RollbackDecision {
  /** The rollout being undone; null when no current release records one (per-host fallback). */
  rollout: string | null
  hosts: HostDecision[]
}

const currentInfo = (h: HostReleases): ReleaseInfo | undefined => (h.current ? h.releases.find((r) => r.id === h.current) : undefined)

/** kaops' release directories on the host (one without a readable manifest fails loudly when switched to, not skipped). */
const releaseIds = (h: HostReleases): string[] => h.releases.map((r) => r.id).filter(isReleaseId)

export function decideRollback(hosts: HostReleases[]): RollbackDecision {
  const unread = hosts.filter((h) => h.error)
  if (unread.length > 0) {
    // The last rollout cannot be known without every host's current release: nobody moves.
    const why = `cannot tell which apply was the last: ${unread.map((h) => `${h.host}: ${h.error}`).join('; ')}`
    return {rollout: null, hosts: hosts.map((h) => ({host: h.host, action: 'error', error: why}))}
  }
  const rollouts = hosts.map((h) => currentInfo(h)?.rollout).filter((r): r is string => r !== undefined)
  if (rollouts.length === 0) return {rollout: null, hosts: hosts.map(perHost)}
  const last = rollouts.reduce((a, b) => (b > a ? b : a))
  return {rollout: last, hosts: hosts.map((h) => undoRollout(h, last))}
}

/** The fallback for releases without rollout ids: this host's newest older release. */
function perHost(h: HostReleases): HostDecision {
  const why = 'no current release records the apply that made it (releases from before kaops recorded rollouts), so each host goes back to its previous release'
  const ids = releaseIds(h)
  const t = rollbackTarget(ids, h.current)
  if ('id' in t) return {host: h.host, action: 'move', current: h.current!, to: t.id, note: `${why}: ${t.id}`}
  // A host the later applies never changed has only its first release: "previous" for it is
  // what it has now, so it stays (and says so) rather than stopping everyone's rollback.
  if (h.current && ids.includes(h.current)) return {host: h.host, action: 'stay', current: h.current, note: `${why}; no release older than ${h.current}: stays on it`}
  return {host: h.host, action: 'error', error: `${h.host}: ${t.error}`}
}

function undoRollout(h: HostReleases, last: string): HostDecision {
  const cur = currentInfo(h)
  if (h.current && (!cur || cur.problem)) {
    // Whether the last apply made it cannot be told: moving or keeping it could both be wrong.
    return {host: h.host, action: 'error', error: `${h.host}: current release ${h.current} has no readable manifest.json, so whether rollout ${last} made it is unknown; roll it back with --host ${h.host} --to RELEASE`}
  }
  if (!cur || cur.rollout !== last) {
    const on = !h.current ? 'no kaops release' : cur!.rollout ? `${h.current}, from rollout ${cur!.rollout}` : `${h.current}, from before kaops recorded rollouts`
    return {host: h.host, action: 'stay', current: h.current, note: `not changed by rollout ${last}: stays on ${on}`}
  }
  const current = h.current!
  const ids = releaseIds(h)
  const prev = cur.previous_release
  if (prev === null) return {host: h.host, action: 'stay', current, note: `rollout ${last} made its first release (${current}): nothing older to return to, stays on it`}
  if (prev === undefined) {
    // A manifest with a rollout but no previous_release is not one kaops writes; fall back to the id order.
    const older = ids.filter((id) => id < current)
    if (older.length === 0) return {host: h.host, action: 'stay', current, note: `rollout ${last} made ${current} and no older release is left: stays on it`}
    return {host: h.host, action: 'move', current, to: older[older.length - 1]!, note: `undoes rollout ${last}: back to ${older[older.length - 1]!} (the newest older release; ${current} does not record its predecessor)`}
  }
  if (!ids.includes(prev)) {
    return {host: h.host, action: 'error', error: `${h.host}: rollout ${last} replaced release ${prev}, which is no longer there (pruned?); pick one with --host ${h.host} --to RELEASE (see kaops releases)`}
  }
  return {host: h.host, action: 'move', current, to: prev, note: `undoes rollout ${last}: back to ${prev}, current before it`}
}
