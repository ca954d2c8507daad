import {readdirSync, readFileSync, realpathSync, statSync} from 'node:fs'

/**
 * What the config test needs to know about the host, behind one small door so the checks
 * stay pure and tests can describe any host they like.
 */
export interface FileInfo {
  uid: number
  gid: number
  /** Permission bits including setuid/setgid/sticky (st_mode & 0o7777). */
  mode: number
  isFile: boolean
  isDirectory: boolean
}

export interface HostEnv {
  /** Interface names present on the host (or in the network namespace kaopsd runs in). */
  listInterfaces(): string[]
  /** stat(2) following symlinks; undefined when the path does not exist. */
  stat(path: string): FileInfo | undefined
  /** realpath(3); undefined when the path does not exist. */
  realpath(path: string): string | undefined
  lookupUser(name: string): {uid: number; gid: number} | undefined
  lookupGroup(name: string): {gid: number} | undefined
  /** Where bare command names are searched (keepalived uses PATH). */
  pathDirs: string[]
}

function parseColonFile(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'))
  } catch {
    return []
  }
}

/** The real host: /sys/class/net, the file system, /etc/passwd and /etc/group. */
export function nodeHostEnv(): HostEnv {
  return {
    listInterfaces: () => {
      try {
        return readdirSync('/sys/class/net')
      } catch {
        return []
      }
    },
    stat: (path) => {
      try {
        const s = statSync(path)
        return {uid: s.uid, gid: s.gid, mode: s.mode & 0o7777, isFile: s.isFile(), isDirectory: s.isDirectory()}
      } catch {
        return undefined
      }
    },
    realpath: (path) => {
      try {
        return realpathSync(path)
      } catch {
        return undefined
      }
    },
    lookupUser: (name) => {
      const row = parseColonFile('/etc/passwd').find((r) => r[0] === name)
      return row ? {uid: Number(row[2]), gid: Number(row[3])} : undefined
    },
    lookupGroup: (name) => {
      const row = parseColonFile('/etc/group').find((r) => r[0] === name)
      return row ? {gid: Number(row[2])} : undefined
    },
    pathDirs: [...new Set([...(process.env['PATH'] ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])],
  }
}
