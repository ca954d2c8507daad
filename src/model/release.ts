/**
 * A release: one directory per apply on each host (/opt/kaops/releases/<id>/) holding kaopsd,
 * the daemon's config, a copy of every managed file and manifest.json. `current` points at the
 * one in effect; rollback switches it back and reinstalls that release's files byte for byte.
 */

export const MANIFEST_FORMAT_VERSION = 1 as const

export interface ReleaseFile {
  /** Absolute path on the host where the file is installed. */
  path: string
  sha256: string
  /** Octal permission bits as a string, e.g. "0644". */
  mode: string
  size: number
}

export interface ReleaseManifest {
  format_version: typeof MANIFEST_FORMAT_VERSION
  id: string
  created_at: string
  /** user@machine that made it. */
  created_by: string
  inventory?: string
  /** `git rev-parse HEAD` of the inventory's repository, "+dirty" when it had local edits. */
  inventory_revision?: string
  /**
   * The apply that made it: one id shared by every release that apply made, on every host
   * (see makeRolloutId). Absent in releases made before kaops recorded it.
   */
  rollout?: string
  /**
   * The release that was current on the host when this one was made: where undoing this
   * release's rollout returns to. null: none (the host's first release); absent: not recorded
   * (releases made before kaops recorded it).
   */
  previous_release?: string | null
  /** Directors only. */
  kaopsd: {sha256: string; version?: string} | null
  files: ReleaseFile[]
  sysctl: {key: string; value: string}[]
  units: {name: string; enabled: boolean; active: boolean}[]
  loopbackVips: string[]
}

/** One release as `kaops releases` lists it. */
export interface ReleaseInfo {
  id: string
  current: boolean
  created_at?: string
  created_by?: string
  inventory_revision?: string
  rollout?: string
  previous_release?: string | null
  kaopsd_sha256?: string
  files?: number
  /** Set when the manifest could not be read. */
  problem?: string
}

export interface HostReleases {
  host: string
  current: string | null
  releases: ReleaseInfo[]
  error?: string
}
