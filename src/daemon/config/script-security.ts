import {posix} from 'node:path'
import type {FileInfo, HostEnv} from './host-env.js'

/**
 * keepalived's script security rule: a script that runs as root (or as user U) must not be
 * changeable by anyone else. So the file and every directory above it must be owned by root
 * (or U), and none of them may be writable by others or by a non-root group; a directory
 * writable that way is still fine when it is sticky (like /tmp), because then only a file's
 * owner can replace it.
 */
export interface Runner {
  uid: number
  gid: number
}

/** Why the file at `realPath` is unsafe to run as `runner`, or undefined when it is safe. */
export function scriptInsecurity(realPath: string, runner: Runner, env: Pick<HostEnv, 'stat'>): string | undefined {
  const file = env.stat(realPath)
  if (!file) return `'${realPath}' does not exist`
  const fileProblem = writableByOthers(file, runner, false)
  if (fileProblem) return `'${realPath}' ${fileProblem}`
  let dir = posix.dirname(realPath)
  for (;;) {
    const info = env.stat(dir)
    if (info) {
      const problem = writableByOthers(info, runner, true)
      if (problem) return `directory '${dir}' above it ${problem}`
    }
    if (dir === '/') return undefined
    dir = posix.dirname(dir)
  }
}

function writableByOthers(info: FileInfo, runner: Runner, isDir: boolean): string | undefined {
  const trusted = (uid: number): boolean => uid === 0 || uid === runner.uid
  if (!trusted(info.uid)) return `is owned by uid ${info.uid}, who could change it`
  const sticky = isDir && (info.mode & 0o1000) !== 0
  if (sticky) return undefined
  if (info.mode & 0o002) return 'is writable by every user'
  if (info.mode & 0o020 && info.gid !== 0 && info.gid !== runner.gid) return `is writable by group ${info.gid}, which is not root's`
  return undefined
}

/** Finds the program of a command: absolute/relative paths as they are, bare names in PATH. */
export function resolveProgram(program: string, env: Pick<HostEnv, 'stat' | 'pathDirs'>): string | undefined {
  if (program.includes('/')) return env.stat(program)?.isFile ? program : undefined
  for (const dir of env.pathDirs) {
    const candidate = posix.join(dir, program)
    if (env.stat(candidate)?.isFile) return candidate
  }
  return undefined
}

export function isExecutable(info: FileInfo): boolean {
  return info.isFile && (info.mode & 0o111) !== 0
}
