/** `kaops releases`: every host's releases, read in one round trip each; the parsing is pure. */
import type {DesiredHost} from '../model/desired-state.js'
import type {HostReleases, ReleaseInfo} from '../model/release.js'
import {mapSettledLimit} from '../remote/parallel.js'
import type {HostShell} from './host-run.js'
import {listReleasesScript} from './host-scripts.js'
import {parseManifest} from './manifest.js'
import {isReleaseId} from './release-id.js'

export function parseReleaseListing(host: string, stdout: string): HostReleases {
  let current: string | null = null
  const releases: ReleaseInfo[] = []
  let ended = false
  for (const line of stdout.split('\n')) {
    const [tag, a, b] = line.split(' ')
    if (tag === 'CUR') current = a && a.length > 0 ? a : null
    else if (tag === 'R' && a) {
      const info: ReleaseInfo = {id: a, current: false}
      const m = b && b !== '-' ? parseManifest(Buffer.from(b, 'base64').toString('utf8')) : undefined
      if (m) {
        info.created_at = m.created_at
        info.created_by = m.created_by
        if (m.inventory_revision) info.inventory_revision = m.inventory_revision
        if (m.rollout !== undefined) info.rollout = m.rollout
        if (m.previous_release !== undefined) info.previous_release = m.previous_release
        if (m.kaopsd) info.kaopsd_sha256 = m.kaopsd.sha256
        info.files = m.files.length
      } else info.problem = 'no readable manifest.json'
      if (!isReleaseId(a)) info.problem = 'not a kaops release id'
      releases.push(info)
    } else if (tag === 'END') ended = true
  }
  for (const r of releases) r.current = r.id === current
  releases.sort((x, y) => (x.id < y.id ? 1 : -1))
  const out: HostReleases = {host, current, releases}
  if (!ended) out.error = 'listing truncated'
  return out
}

/** One host's releases over a connection the caller owns. */
export async function readReleases(shell: HostShell, host: string): Promise<HostReleases> {
  const r = await shell.exec(listReleasesScript(), {timeoutMs: 30_000})
  if (r.code !== 0) throw new Error(`listing releases failed (exit ${r.code}): ${r.stderr.trim()}`)
  return parseReleaseListing(host, r.stdout)
}

export async function listReleases(hosts: DesiredHost[], connect: (d: DesiredHost) => Promise<HostShell>, parallel: number): Promise<HostReleases[]> {
  const settled = await mapSettledLimit(hosts, parallel, async (d) => {
    const s = await connect(d)
    try {
      return await readReleases(s, d.name)
    } finally {
      s.close()
    }
  })
  return hosts.map((d, i) => {
    const r = settled[i]!
    return r.status === 'fulfilled' ? r.value : {host: d.name, current: null, releases: [], error: (r.reason as Error).message}
  })
}

export function formatReleases(list: HostReleases[]): string {
  const lines: string[] = []
  for (const h of list) {
    lines.push(`${h.host}${h.error ? `: ERROR ${h.error}` : h.releases.length === 0 ? ': no releases' : ''}`)
    for (const r of h.releases) {
      const rev = r.inventory_revision ? ` rev ${r.inventory_revision.slice(0, 12)}` : ''
      // The rollout groups the releases one apply made across hosts; "-": made before kaops recorded it.
      const rollout = r.problem ? '' : `  rollout ${r.rollout ?? '-'}`
      lines.push(`  ${r.current ? '*' : ' '} ${r.id}  ${r.created_at ?? '?'}${rollout}${rev}${r.created_by ? ` by ${r.created_by}` : ''}${r.problem ? `  (${r.problem})` : ''}`)
    }
  }
  return lines.join('\n') + '\n'
}
