import {readdir, readFile, stat} from 'node:fs/promises'

/**
 * The only door from the config reader to the file system, so tests can hand it an
 * in-memory tree and the parser itself stays free of I/O.
 */
export interface ConfigFs {
  readFile(path: string): Promise<string>
  /** Names (not paths) in a directory; rejects when it is not one. */
  readdir(path: string): Promise<string[]>
  isDirectory(path: string): Promise<boolean>
}

export const nodeConfigFs: ConfigFs = {
  readFile: async (path) => readFile(path, 'utf8'),
  readdir: async (path) => readdir(path),
  isDirectory: async (path) => {
    try {
      return (await stat(path)).isDirectory()
    } catch {
      return false
    }
  },
}

/** An in-memory ConfigFs over {absolutePath: content}; directories are implied by paths. */
export function memoryConfigFs(files: Record<string, string>): ConfigFs {
  const dirs = new Map<string, Set<string>>()
  for (const path of Object.keys(files)) {
    const parts = path.split('/')
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/') || '/'
      if (!dirs.has(dir)) dirs.set(dir, new Set())
      dirs.get(dir)!.add(parts[i]!)
    }
  }
  return {
    readFile: async (path) => {
      const text = files[path]
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file '${path}'`), {code: 'ENOENT'})
      return text
    },
    readdir: async (path) => {
      const names = dirs.get(path)
      if (!names) throw Object.assign(new Error(`ENOENT: no such directory '${path}'`), {code: 'ENOENT'})
      return [...names]
    },
    isDirectory: async (path) => dirs.has(path),
  }
}
