import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {chmod, mkdir, readdir, readFile, rename, rm, statfs, symlink, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import type {LabSpec} from './lab-spec.js'
import type {LabPaths} from './paths.js'
import {pidAlive} from '../local/pid-alive.js'
import {haveCommand, tryRun} from './runner.js'

/**
 * The Debian root every lab host boots from, made once with debootstrap and cached. It is built
 * in a temporary directory and renamed into place only when complete, so a broken build never
 * looks cached. Its directory name carries a hash of what went into it (suite, mirror,
 * packages): change any of them and the next `up` builds a new one.
 */

/** Packages every host needs whatever the inventory says: init, bus, sshd. */
export const BASE_PACKAGES = ['dbus', 'openssh-server', 'systemd', 'systemd-sysv']
/** Bump when prepareBase changes, so old caches rebuild. */
const RECIPE_VERSION = 1
const STAMP = '.kaops-lab-base.json'
const BUILD_SPACE = 1536 * 1024 * 1024

export interface BaseStamp {
  recipe: number
  suite: string
  mirror: string
  packages: string[]
}

export function baseStamp(spec: Pick<LabSpec, 'suite' | 'mirror' | 'packages'>): BaseStamp {
  const packages = [...new Set([...BASE_PACKAGES, ...spec.packages])].sort()
  return {recipe: RECIPE_VERSION, suite: spec.suite, mirror: spec.mirror, packages}
}

export function stampHash(stamp: BaseStamp): string {
  return `${stamp.suite}-${createHash('sha256').update(JSON.stringify(stamp)).digest('hex').slice(0, 12)}`
}

/** The cached base for this spec, if one is complete. */
export async function findBase(spec: LabSpec, paths: LabPaths): Promise<string | undefined> {
  const stamp = baseStamp(spec)
  const dir = paths.baseDir(stampHash(stamp))
  try {
    const seen = JSON.parse(await readFile(join(dir, STAMP), 'utf8')) as BaseStamp
    return JSON.stringify(seen) === JSON.stringify(stamp) ? dir : undefined
  } catch {
    return undefined
  }
}

export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}

/** Returns the base directory, building it first when it is not cached. */
export async function ensureBase(spec: LabSpec, paths: LabPaths, progress: (line: string) => void): Promise<{dir: string; built: boolean}> {
  const cached = await findBase(spec, paths)
  if (cached) return {dir: cached, built: false}

  if (!(await haveCommand('debootstrap'))) {
    throw new KaopsError('debootstrap is not installed: the lab builds its Debian root with it', {
      exit: ExitCode.environment,
      suggestions: ['apt-get install debootstrap (or run scripts/install-deps.sh)'],
    })
  }
  await mkdir(paths.cacheDir, {recursive: true})
  const free = await freeBytes(paths.cacheDir)
  if (free < BUILD_SPACE) {
    throw new KaopsError(`not enough space in ${paths.cacheDir}: ${Math.floor(free / 2 ** 20)} MiB free, the lab's base image needs about ${BUILD_SPACE / 2 ** 20} MiB`, {
      exit: ExitCode.environment,
      suggestions: ['free some space, or point KAOPS_LAB_CACHE at a larger filesystem'],
    })
  }
  await removeStaleBuilds(paths)

  const stamp = baseStamp(spec)
  const final = paths.baseDir(stampHash(stamp))
  const tmp = `${final}.building-${process.pid}`
  await rm(tmp, {recursive: true, force: true})
  progress(`base image: debootstrap ${spec.suite} from ${spec.mirror} (${stamp.packages.length} packages, about a minute)`)
  try {
    const r = await tryRun(
      'debootstrap',
      ['--variant=minbase', `--include=${stamp.packages.join(',')}`, spec.suite, tmp, spec.mirror],
      {timeoutMs: 20 * 60_000, env: {...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C'}},
    )
    if (r.code !== 0) {
      const log = await readFile(join(tmp, 'debootstrap', 'debootstrap.log'), 'utf8').catch(() => '')
      throw debootstrapError(spec, `${r.stdout}\n${r.stderr}\n${log}`, r.code)
    }
    await prepareBase(tmp)
    await writeFile(join(tmp, STAMP), `${JSON.stringify(stamp, null, 2)}\n`)
    await rm(final, {recursive: true, force: true})
    await rename(tmp, final)
  } catch (error) {
    await rm(tmp, {recursive: true, force: true})
    throw error
  }
  progress(`base image: ready in ${final}`)
  return {dir: final, built: true}
}

/** One clear line out of debootstrap's chatter. */
export function debootstrapError(spec: Pick<LabSpec, 'suite' | 'mirror'>, output: string, code: number): KaopsError {
  if (/No space left on device/i.test(output)) {
    return new KaopsError('no space left while building the lab base image', {exit: ExitCode.environment, suggestions: ['free some space, or point KAOPS_LAB_CACHE at a larger filesystem']})
  }
  const missing = /Couldn't find these debs: (.*)/.exec(output)
  if (missing) {
    return new KaopsError(`lab.packages: Debian ${spec.suite} has no package ${missing[1]!.trim()}`, {exit: ExitCode.error, suggestions: ['fix lab.packages in the inventory']})
  }
  if (/Failed getting release file|Couldn't download|Failure trying to run|Temporary failure resolving|Could not resolve|Connection refused|unable to fetch/i.test(output)) {
    const cause = /Failed getting release file.*|Couldn't download.*|Temporary failure resolving.*|Could not resolve.*/i.exec(output)?.[0] ?? ''
    if (!/Failure trying to run/.test(cause)) {
      return new KaopsError(`cannot download Debian ${spec.suite} from ${spec.mirror} (apt mirror unreachable${cause ? `: ${cause.trim()}` : ''})`, {
        exit: ExitCode.environment,
        suggestions: ['check this machine reaches the mirror, or set lab.mirror in the inventory to one it does'],
      })
    }
  }
  const last = output.trim().split('\n').filter((l) => /^(E|W):/.test(l)).slice(-1)[0] ?? output.trim().split('\n').slice(-1)[0] ?? ''
  return new KaopsError(`debootstrap of ${spec.suite} failed (exit ${code}): ${last.trim()}`, {exit: ExitCode.environment})
}

/** Build directories left by a run that died (its pid is gone) are garbage. */
async function removeStaleBuilds(paths: LabPaths): Promise<void> {
  for (const entry of await readdir(paths.cacheDir).catch(() => [] as string[])) {
    const m = /^base-.*\.building-(\d+)$/.exec(entry)
    if (m && !pidAlive(Number(m[1]))) await rm(join(paths.cacheDir, entry), {recursive: true, force: true})
  }
}

/** Removes base images no host uses any more except `keep`. */
export async function pruneBases(paths: LabPaths, keep: Set<string>): Promise<string[]> {
  const removed: string[] = []
  for (const entry of await readdir(paths.cacheDir).catch(() => [] as string[])) {
    const dir = join(paths.cacheDir, entry)
    if (/^base-[a-z0-9-]+$/.test(entry) && !keep.has(dir)) {
      await rm(dir, {recursive: true, force: true})
      removed.push(dir)
    }
  }
  return removed
}

// Units that would fight the lab or only make noise in a container: consoles (nothing reads
// them), network managers (the lab configures eth0 itself), periodic jobs reaching for a network
// lab hosts do not have.
const MASKED_UNITS = [
  'console-getty.service',
  'container-getty@.service',
  'getty@.service',
  'serial-getty@.service',
  'systemd-networkd.service',
  'systemd-networkd.socket',
  'systemd-networkd-wait-online.service',
  'systemd-resolved.service',
  'systemd-timesyncd.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'e2scrub_all.timer',
  'fstrim.timer',
]
// Daemons the packages enable but other code starts on its own terms (keepalived interop tests).
const DISABLED_UNITS = ['keepalived.service']

/** One-time preparation of a fresh debootstrap root, done by writing files (no chroot). */
async function prepareBase(root: string): Promise<void> {
  // Each host gets its own host keys at `up`; none may be shared through the base.
  for (const f of await readdir(join(root, 'etc/ssh'))) {
    if (f.startsWith('ssh_host_')) await unlink(join(root, 'etc/ssh', f))
  }
  await mkdir(join(root, 'etc/ssh/sshd_config.d'), {recursive: true})
  await writeFile(
    join(root, 'etc/ssh/sshd_config.d/kaops-lab.conf'),
    [
      '# kaops lab: root logs in with the lab key only.',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'UseDNS no',
      '',
    ].join('\n'),
  )
  await mkdir(join(root, 'root/.ssh'), {recursive: true})
  await chmod(join(root, 'root/.ssh'), 0o700)
  // Empty: systemd gives each booted container its own id.
  await writeFile(join(root, 'etc/machine-id'), '')
  await rm(join(root, 'var/lib/dbus/machine-id'), {force: true})
  const system = join(root, 'etc/systemd/system')
  for (const unit of MASKED_UNITS) {
    await rm(join(system, unit), {force: true})
    await symlink('/dev/null', join(system, unit))
  }
  for (const wants of await readdir(system).catch(() => [] as string[])) {
    if (!wants.endsWith('.wants')) continue
    for (const unit of [...DISABLED_UNITS, ...MASKED_UNITS]) await rm(join(system, wants, unit), {force: true})
  }
  // The image is copied or overlaid per host: keep it lean.
  for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    const full = join(root, dir)
    if (!existsSync(full)) continue
    for (const f of await readdir(full)) if (f !== 'partial' && f !== 'lock') await rm(join(full, f), {recursive: true, force: true})
  }
}
