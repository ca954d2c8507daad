import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {isAbsolute, resolve} from 'node:path'
import {SecretValue, type SecretRef} from '../model/inventory.js'

/** How secrets are read: the environment and files, replaceable in tests. */
export interface SecretSources {
  env: Record<string, string | undefined>
  /** Returns the file's content, or throws (ENOENT, EACCES...). */
  readFile(path: string): string
  /** Relative secret files are taken from here (the inventory's directory). */
  baseDir: string
}

export const processSecretSources = (baseDir: string): SecretSources => ({
  env: process.env,
  readFile: (p) => readFileSync(p, 'utf8'),
  baseDir,
})

export function secretFilePath(file: string, baseDir: string): string {
  if (file === '~' || file.startsWith('~/')) return homedir() + file.slice(1)
  return isAbsolute(file) ? file : resolve(baseDir, file)
}

/**
 * Resolve one reference. Errors name the variable or file but never a value. A file's trailing
 * newline is dropped (echo adds one); the rest is kept as written.
 */
export function resolveSecret(ref: SecretRef, sources: SecretSources): SecretValue | {error: string} {
  if (ref.env !== undefined) {
    const v = sources.env[ref.env]
    if (v !== undefined && v !== '') return new SecretValue(v, `env ${ref.env}`)
    if (ref.default !== undefined) return new SecretValue(ref.default, 'default')
    return {error: `environment variable ${ref.env} is not set`}
  }
  if (ref.file !== undefined) {
    const path = secretFilePath(ref.file, sources.baseDir)
    try {
      const v = sources.readFile(path).replace(/\r?\n$/, '')
      if (v !== '') return new SecretValue(v, `file ${ref.file}`)
      if (ref.default !== undefined) return new SecretValue(ref.default, 'default')
      return {error: `secret file ${ref.file} is empty`}
    } catch (error) {
      if (ref.default !== undefined) return new SecretValue(ref.default, 'default')
      return {error: `secret file ${ref.file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`}
    }
  }
  return {error: 'a secret needs {env: NAME} or {file: PATH}'}
}
