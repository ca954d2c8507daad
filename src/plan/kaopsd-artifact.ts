/**
 * The kaopsd executable apply would ship, so plan can say whether hosts run a different one.
 * Found at $KAOPS_KAOPSD or dist/kaopsd beside the package (what `npm run build` produces).
 * Absent (not built yet): plan only checks that a binary is present on directors.
 */
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {readFile, rename, rm, stat, writeFile} from 'node:fs/promises'
import type {Stats} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {KaopsdArtifact} from './host-changes.js'

export function defaultKaopsdPath(): string {
  if (process.env.KAOPS_KAOPSD) return process.env.KAOPS_KAOPSD
  // src/plan/ or dist/plan/ -> package root
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'kaopsd')
}

/**
 * What a cached hash is valid for: the same file (device, inode) not written since (size, mtime,
 * and ctime, which no one can set back by hand). The executable is ~90 MB and hashing it cost
 * more than reading the state of ten hosts, on every plan.
 */
interface HashCache {
  dev: number
  ino: number
  size: number
  mtimeMs: number
  ctimeMs: number
  sha256: string
}

export const hashCachePath = (path: string): string => `${path}.sha256-cache.json`

const sameFile = (c: Partial<HashCache>, st: Stats) =>
  c.dev === st.dev && c.ino === st.ino && c.size === st.size && c.mtimeMs === st.mtimeMs && c.ctimeMs === st.ctimeMs && typeof c.sha256 === 'string' && /^[0-9a-f]{64}$/.test(c.sha256)

export async function kaopsdArtifact(path = defaultKaopsdPath(), opts: {cache?: boolean} = {}): Promise<(KaopsdArtifact & {path: string}) | undefined> {
  let st: Stats
  try {
    st = await stat(path)
  } catch {
    return undefined
  }
  const useCache = opts.cache ?? true
  if (useCache) {
    const cached = (await readFile(hashCachePath(path), 'utf8').then((t) => JSON.parse(t) as Partial<HashCache>).catch(() => undefined)) ?? {}
    if (sameFile(cached, st)) return {path, sha256: cached.sha256!}
  }
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  const sha256 = hash.digest('hex')
  const after = await stat(path)
  // Written while we read: hash is of a mix, do not keep it (the next plan hashes again).
  if (useCache && sameFile({...after, sha256}, st)) {
    const entry: HashCache = {dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, sha256}
    const tmp = `${hashCachePath(path)}.${process.pid}.tmp`
    // Best effort: a read-only install just hashes every time.
    await writeFile(tmp, JSON.stringify(entry))
      .then(() => rename(tmp, hashCachePath(path)))
      .catch(() => rm(tmp, {force: true}).catch(() => undefined))
  }
  return {path, sha256}
}
