/**
 * The kaopsd executable as it travels: gzip-compressed once per run (it is shared by every
 * director), with the sha256 of the uncompressed bytes that the host checks on arrival.
 */
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {promisify} from 'node:util'
import {gzip} from 'node:zlib'

const gz = promisify(gzip)

export interface KaopsdPayload {
  path: string
  sha256: string
  gzipped: Buffer
  size: number
}

const cache = new Map<string, Promise<KaopsdPayload>>()

export function kaopsdPayload(path: string): Promise<KaopsdPayload> {
  let p = cache.get(path)
  if (!p) {
    p = (async () => {
      const raw = await readFile(path)
      return {path, sha256: createHash('sha256').update(raw).digest('hex'), gzipped: await gz(raw, {level: 6}), size: raw.length}
    })()
    cache.set(path, p)
  }
  return p
}
