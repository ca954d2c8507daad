import {existsSync} from 'node:fs'
import {mkdir, readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {run, tryRun} from './runner.js'

/**
 * A host's own writable root: an overlay mount over the shared base (upper/work dirs in the
 * host's directory), or, where overlayfs is refused (some filesystems, nested containers), a
 * full copy of the base.
 */

export const rootDir = (hostDir: string): string => join(hostDir, 'root')

export async function isMountPoint(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8')
  // Field 5 is the mount point, with spaces and such octal-escaped.
  const escaped = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)
  return info.split('\n').some((line) => line.split(' ')[4] === escaped)
}

/** Makes the host's root ready to boot; idempotent. */
export async function ensureRoot(hostDir: string, base: string, mode: 'overlay' | 'copy' | undefined): Promise<'overlay' | 'copy'> {
  const root = rootDir(hostDir)
  if (await isMountPoint(root)) return 'overlay'
  if (mode === 'copy' && existsSync(join(root, 'etc', 'os-release'))) return 'copy'
  await mkdir(join(hostDir, 'upper'), {recursive: true})
  await mkdir(join(hostDir, 'work'), {recursive: true})
  await mkdir(root, {recursive: true})
  const r = await tryRun('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base},upperdir=${join(hostDir, 'upper')},workdir=${join(hostDir, 'work')}`, root])
  if (r.code === 0) return 'overlay'
  // Overlay refused: a plain copy costs space and a few seconds, but boots the same.
  await rm(root, {recursive: true, force: true})
  await run('cp', ['-a', '--reflink=auto', base, root])
  return 'copy'
}

/** Unmounts (if mounted) and removes the host's directory. */
export async function removeRoot(hostDir: string): Promise<void> {
  const root = rootDir(hostDir)
  if (await isMountPoint(root)) {
    const r = await tryRun('umount', [root])
    // Still busy (a process we could not kill holds it): detach it so the directory can go.
    if (r.code !== 0) await run('umount', ['-l', root])
  }
  await rm(hostDir, {recursive: true, force: true})
}
