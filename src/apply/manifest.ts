/**
 * A release's manifest from a desired host, pure: hashes of every managed file, the sysctl,
 * units and loopback VIPs it brings, the kaopsd it runs. Its id is the time plus a hash of the
 * content, so two releases with the same content made at different times stay distinct.
 */
import {createHash} from 'node:crypto'
import type {DesiredHost} from '../model/desired-state.js'
import {MANIFEST_FORMAT_VERSION, type ReleaseManifest} from '../model/release.js'
import {makeReleaseId} from './release-id.js'

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex')

export interface ManifestOptions {
  now: Date
  createdBy: string
  kaopsd?: {sha256: string; version?: string}
  inventory?: string
  inventoryRevision?: string
  /** The apply's rollout id, shared by every release it makes. */
  rollout?: string
  /** The release current on the host before this one (null: none); see ReleaseManifest.previous_release. */
  previousRelease?: string | null
}

export function buildManifest(d: DesiredHost, opts: ManifestOptions): ReleaseManifest {
  const body = {
    kaopsd: d.roles.includes('director') && opts.kaopsd ? {sha256: opts.kaopsd.sha256, ...(opts.kaopsd.version ? {version: opts.kaopsd.version} : {})} : null,
    files: [...d.files]
      .sort((a, b) => (a.path < b.path ? -1 : 1))
      .map((f) => ({path: f.path, sha256: sha(f.content), mode: f.mode.toString(8).padStart(4, '0'), size: Buffer.byteLength(f.content)})),
    sysctl: d.sysctl.map((s) => ({key: s.key, value: s.value})),
    units: d.units.map((u) => ({name: u.name, enabled: u.enabled, active: u.active})),
    loopbackVips: [...d.loopbackVips],
  }
  const m: ReleaseManifest = {
    format_version: MANIFEST_FORMAT_VERSION,
    id: makeReleaseId(opts.now, sha(JSON.stringify(body))),
    created_at: opts.now.toISOString(),
    created_by: opts.createdBy,
    ...body,
  }
  if (opts.inventory !== undefined) m.inventory = opts.inventory
  if (opts.inventoryRevision !== undefined) m.inventory_revision = opts.inventoryRevision
  if (opts.rollout !== undefined) m.rollout = opts.rollout
  if (opts.previousRelease !== undefined) m.previous_release = opts.previousRelease
  return m
}

/**
 * Parse a manifest read from a host; undefined when it is not one. The fields later kaops
 * versions added (rollout, previous_release) are optional, so older manifests stay readable;
 * when present they must have their type, since rollback decides by them.
 */
export function parseManifest(text: string): ReleaseManifest | undefined {
  try {
    const m = JSON.parse(text) as ReleaseManifest
    if (!m || m.format_version !== MANIFEST_FORMAT_VERSION || typeof m.id !== 'string' || !Array.isArray(m.files)) return undefined
    if (m.rollout !== undefined && typeof m.rollout !== 'string') return undefined
    if (m.previous_release !== undefined && m.previous_release !== null && typeof m.previous_release !== 'string') return undefined
    return m
  } catch {
    return undefined
  }
}
