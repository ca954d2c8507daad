import {getAsset, isSea} from 'node:sea'
import {lstatSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * Finds and loads kaops_raw.node (native/kaops_raw.c), the one native piece of kaopsd.
 *
 * Inside the single executable the addon travels as the SEA asset `kaops_raw.node`: it is
 * written to a fresh private directory (mkdtemp, 0700, checked to be ours), dlopen'ed, and then
 * removed again, since a loaded library stays mapped after its file is gone. Unbundled (tsx,
 * tests) it is loaded from native/build/, where `node scripts/build-kaopsd.mjs` puts it.
 * Loading is lazy: `kaopsd --version` or `-t` never touch it.
 */

/** The addon's surface; handles are opaque. See native/kaops_raw.c for each call's contract. */
export interface NativeAddon {
  rawOpen(
    family: 4 | 6,
    protocol: number,
    ifname: string | null,
    onPacket: (src: string, dst: string, ttl: number, ifindex: number, payload: Buffer) => void,
    onError: (err: Error) => void,
  ): NativeHandle
  rawMembership(h: NativeHandle, group: string, ifindex: number, join: boolean): void
  rawMulticastInterface(h: NativeHandle, ifindex: number): void
  rawMulticastLoop(h: NativeHandle, on: boolean): void
  rawSend(h: NativeHandle, dst: string, src: string | null, ifindex: number, payload: Buffer): number
  packetOpen(): NativeHandle
  packetSend(h: NativeHandle, ifindex: number, frame: Buffer): number
  close(h: NativeHandle): void
  setRef(h: NativeHandle, on: boolean): void
  interfaceInfo(name: string): {ifindex: number; mac: Buffer}
}

declare const nativeHandleBrand: unique symbol
export type NativeHandle = {readonly [nativeHandleBrand]: true}

export const ADDON_ASSET = 'kaops_raw.node'

let loaded: NativeAddon | undefined

export function loadNative(): NativeAddon {
  loaded ??= isSea() ? loadFromAsset() : loadFromFile(devAddonPath())
  return loaded
}

/** Where the build leaves the addon; only meaningful when running from the source tree. */
export function devAddonPath(): string {
  // The bundle defines import.meta.url as a constant; this branch never runs there.
  return fileURLToPath(new URL('../../../native/build/kaops_raw.node', import.meta.url))
}

function loadFromFile(path: string): NativeAddon {
  const mod = {exports: {} as NativeAddon}
  try {
    process.dlopen(mod, path)
  } catch (err) {
    const hint = (err as NodeJS.ErrnoException).code === 'ERR_DLOPEN_FAILED' && /No such file/.test(String(err))
      ? ' (build it with: node scripts/build-kaopsd.mjs --addon-only)'
      : ''
    throw new Error(`cannot load the native addon ${path}: ${(err as Error).message}${hint}`, {cause: err})
  }
  return mod.exports
}

function loadFromAsset(): NativeAddon {
  const bytes = Buffer.from(getAsset(ADDON_ASSET))
  // A noexec /tmp makes dlopen fail, so fall back to other private places a daemon can write.
  const bases = [process.env.KAOPSD_TMPDIR, tmpdir(), '/run', '/dev/shm'].filter((b): b is string => !!b)
  const failures: string[] = []
  for (const base of [...new Set(bases)]) {
    let dir: string | undefined
    try {
      dir = mkdtempSync(join(base, 'kaopsd-'))
      assertPrivateDir(dir)
      const file = join(dir, ADDON_ASSET)
      writeFileSync(file, bytes, {mode: 0o700, flag: 'wx'})
      return loadFromFile(file)
    } catch (err) {
      failures.push(`${base}: ${(err as Error).message}`)
    } finally {
      if (dir) rmSync(dir, {recursive: true, force: true})
    }
  }
  throw new Error(`cannot load kaopsd's native addon from any temporary directory (set KAOPSD_TMPDIR to a writable, exec-mounted directory):\n  ${failures.join('\n  ')}`)
}

/** mkdtemp already makes a 0700 directory; check anyway, as a shared /tmp is hostile ground. */
function assertPrivateDir(dir: string): void {
  const st = lstatSync(dir)
  if (!st.isDirectory() || st.isSymbolicLink()) throw new Error(`${dir} is not a plain directory`)
  if (process.getuid && st.uid !== process.getuid()) throw new Error(`${dir} is owned by uid ${st.uid}, not us`)
  if ((st.mode & 0o077) !== 0) throw new Error(`${dir} has mode ${(st.mode & 0o777).toString(8)}, expected 700`)
}
