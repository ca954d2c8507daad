/**
 * Release ids and which releases to prune, pure. An id sorts by time as a string:
 * 20250102T030405Z-1a2b3c4d (UTC second, then 8 hex of the release's content hash).
 */
const ID_RE = /^(\d{8}T\d{6}Z)-([0-9a-f]{8})$/

export function makeReleaseId(now: Date, contentSha256: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')
  return `${stamp}-${contentSha256.slice(0, 8)}`
}

export const isReleaseId = (s: string): boolean => ID_RE.test(s)

const ROLLOUT_RE = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}$/

/**
 * One apply's id, recorded in every release it makes: 20250102T030405.678Z-1a2b3c4d (UTC to
 * the millisecond when the apply started, then the run's random token, the one its lock holder
 * names). Sorts by time as a string, so "the newest rollout" is the greatest; the milliseconds
 * keep two applies started in the same second apart (the token breaks any remaining tie).
 */
export function makeRolloutId(now: Date, token: string): string {
  if (!/^[0-9a-f]{8}$/.test(token)) throw new RangeError(`rollout token must be 8 hex digits, got ${token}`)
  return `${now.toISOString().replace(/[-:]/g, '')}-${token}`
}

export const isRolloutId = (s: string): boolean => ROLLOUT_RE.test(s)

/** When the release was made, from its id. */
export function releaseTime(id: string): Date | undefined {
  const m = ID_RE.exec(id)
  if (!m) return undefined
  const s = m[1]!
  return new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`)
}

/**
 * Releases to delete so that `keep` remain: the newest ones stay, the current one always stays
 * (even when an old release was rolled back to), names that are not release ids are left alone
 * (an operator's directory is not ours to delete).
 */
export function releasesToPrune(ids: string[], current: string | null, keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be a positive integer, got ${keep}`)
  const sorted = ids.filter(isReleaseId).sort().reverse()
  const kept = new Set<string>()
  if (current && sorted.includes(current)) kept.add(current)
  for (const id of sorted) {
    if (kept.size >= keep) break
    kept.add(id)
  }
  return sorted.filter((id) => !kept.has(id)).sort()
}

/**
 * The release a rollback returns to: `to` when given (it must exist), else the newest release
 * older than the current one. Returns a reason instead when there is none.
 */
export function rollbackTarget(ids: string[], current: string | null, to?: string): {id: string} | {error: string} {
  const sorted = ids.filter(isReleaseId).sort()
  if (to !== undefined) {
    if (!sorted.includes(to)) return {error: `release ${to} does not exist (releases: ${sorted.join(', ') || 'none'})`}
    return {id: to}
  }
  if (!current) return {error: 'no current release (kaops never applied here)'}
  const older = sorted.filter((id) => id < current)
  if (older.length === 0) return {error: `no release older than the current one (${current})`}
  return {id: older[older.length - 1]!}
}
