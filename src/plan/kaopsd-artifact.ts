/**
 * The kaopsd executable apply would ship, so plan can say whether hosts run a different one.
 * Found at $KAOPS_KAOPSD or dist/kaopsd beside the package (what `npm run build` produces).
 * Absent (not built yet): plan only checks that a binary is present on directors.
 */
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {access} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {KaopsdArtifact} from './host-changes.js'

export function defaultKaopsdPath(): string {
  if (process.env.KAOPS_KAOPSD) return process.env.KAOPS_KAOPSD
  // src/plan/ or dist/plan/ -> package root
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'kaopsd')
}

export async function kaopsdArtifact(path = defaultKaopsdPath()): Promise<(KaopsdArtifact & {path: string}) | undefined> {
  try {
    await access(path)
  } catch {
    return undefined
  }
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return {path, sha256: hash.digest('hex')}
}
