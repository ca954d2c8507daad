import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

/** Set by scripts/build-kaopsd.mjs (esbuild define) from package.json at build time. */
declare const KAOPSD_VERSION: string | undefined

/** kaopsd's version: embedded in the single executable, read from package.json when unbundled. */
export function kaopsdVersion(): string {
  if (typeof KAOPSD_VERSION === 'string') return KAOPSD_VERSION
  const pkg = fileURLToPath(new URL('../../package.json', import.meta.url))
  return (JSON.parse(readFileSync(pkg, 'utf8')) as {version: string}).version
}

export function versionLine(): string {
  return `kaopsd ${kaopsdVersion()} (keepalived 2.2 compatible)`
}
