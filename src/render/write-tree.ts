import {chmod, mkdir, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {DesiredHost} from '../model/desired-state.js'

export interface WrittenFile {
  host: string
  /** Path on the host. */
  path: string
  /** Where it was written here. */
  local: string
  mode: number
  secret: boolean
}

/** Replace every secret value in `content` with a marker, longest first (one may contain another). */
export function redactSecrets(content: string, secrets: readonly string[] | undefined): string {
  let out = content
  for (const s of [...(secrets ?? [])].sort((a, b) => b.length - a.length)) if (s !== '') out = out.split(s).join('<redacted>')
  return out
}

/**
 * Write each host's files under `outDir/<host>/<path>` for review, with their modes. Each host's
 * directory is emptied first so a file that is no longer rendered does not linger there.
 */
export async function writeRenderedTree(hosts: DesiredHost[], outDir: string, opts: {redact?: boolean} = {}): Promise<WrittenFile[]> {
  const written: WrittenFile[] = []
  for (const h of hosts) {
    const hostDir = join(outDir, h.name)
    await rm(hostDir, {recursive: true, force: true})
    for (const f of h.files) {
      const local = join(hostDir, f.path)
      await mkdir(join(local, '..'), {recursive: true})
      const content = opts.redact ? redactSecrets(f.content, f.secrets) : f.content
      await writeFile(local, content, {mode: f.mode})
      await chmod(local, f.mode) // the umask may have narrowed it
      written.push({host: h.name, path: f.path, local, mode: f.mode, secret: !opts.redact && (f.secrets?.length ?? 0) > 0})
    }
  }
  return written
}
