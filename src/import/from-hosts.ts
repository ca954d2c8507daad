import {posix} from 'node:path'
import {memoryConfigFs} from '../daemon/config/index.js'
import type {SshTarget} from '../model/desired-state.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {RemoteHost, type ConnectOptions} from '../remote/connection.js'
import {shq} from '../remote/shell-quote.js'
import {mapInventory, type ImportOptions, type ImportResult} from './map-inventory.js'
import {readDirectorConfig, type DirectorSource} from './read-config.js'
import {applyRealServerOutcomes, drRealServers, readRealServers, type RealServerReadOptions} from './real-servers.js'

export const KEEPALIVED_CONF = '/etc/keepalived/keepalived.conf'

export interface HostImportOptions extends ImportOptions {
  user?: string
  port?: number
  identityFile?: string
  /** Strict: a host missing from this file is refused (no trust on first use). */
  knownHosts?: string
  /** Path of keepalived.conf on every host. */
  configPath?: string
  connect?: ConnectOptions
  /** Log in to the LVS-DR real servers too and import a prepared one with prepare: true. Default true. */
  realServers?: boolean
  /** How the real servers are logged in to (tests hand a fake); the directors always use RemoteHost. */
  connectRealServer?: RealServerReadOptions['connectHost']
}

/** The small part of RemoteHost the reader needs, so tests can hand it a fake. */
export interface ConfigReaderHost {
  exec(command: string, opts?: {privileged?: boolean; timeoutMs?: number}): Promise<{stdout: string; stderr: string; code: number | null}>
}

// Glob characters allowed in an include pattern we hand to the remote shell unquoted (so it
// expands it); anything else is refused rather than risk running it.
const SAFE_GLOB = /^[A-Za-z0-9_./*?[\]@+,=-]+$/
const INCLUDE_RE = /^\s*include[a-z]?\s+("?)([^"\s]+)\1/

function includePatterns(text: string, file: string): string[] {
  const dir = posix.dirname(file)
  return text.split('\n').flatMap((l) => {
    const m = INCLUDE_RE.exec(l)
    return m ? [posix.isAbsolute(m[2]!) ? m[2]! : posix.join(dir, m[2]!)] : []
  })
}

/**
 * keepalived.conf and every file its include lines match, read with one `cat` for the main file
 * and one exec per include pattern (files base64-encoded, one per line, so any content survives).
 */
export async function readRemoteConfigFiles(host: ConfigReaderHost, name: string, main: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  const r = await host.exec(`cat ${shq(main)}`, {privileged: true, timeoutMs: 20_000})
  if (r.code !== 0) throw new KaopsError(`${name}: cannot read ${main}: ${r.stderr.trim() || `exit ${r.code}`}`, {exit: ExitCode.error})
  files[main] = r.stdout
  const queue = includePatterns(r.stdout, main)
  const seen = new Set<string>()
  while (queue.length > 0) {
    const pattern = queue.shift()!
    if (seen.has(pattern) || seen.size > 64) continue
    seen.add(pattern)
    if (!SAFE_GLOB.test(pattern)) throw new KaopsError(`${name}: include ${pattern} in ${main}: unusual characters; copy the files and use kaops import --file`, {exit: ExitCode.error})
    const out = await host.exec(`for f in ${pattern}; do if [ -f "$f" ]; then printf '%s ' "$f"; base64 -w0 < "$f"; echo; fi; done`, {privileged: true, timeoutMs: 20_000})
    for (const line of out.stdout.split('\n')) {
      const sp = line.lastIndexOf(' ')
      if (sp <= 0) continue
      const path = line.slice(0, sp)
      const text = Buffer.from(line.slice(sp + 1), 'base64').toString('utf8')
      files[path] = text
      queue.push(...includePatterns(text, path))
    }
  }
  return files
}

/** The host's own address with its prefix, from `ip -o addr`, when `host` is an address. */
async function hostCidr(host: ConfigReaderHost, address: string): Promise<string | undefined> {
  const r = await host.exec('ip -o addr show', {privileged: false, timeoutMs: 10_000})
  const m = new RegExp(`inet6? ${address.replace(/[.]/g, '\\.')}/(\\d+)`).exec(r.stdout)
  return m ? `${address}/${m[1]}` : undefined
}

/** Log in to each director (strict host keys), read its keepalived.conf with includes, merge. */
export async function importFromHosts(hosts: string[], opts: HostImportOptions = {}): Promise<ImportResult> {
  const main = opts.configPath ?? KEEPALIVED_CONF
  const sources: DirectorSource[] = []
  for (const h of hosts) {
    const user = opts.user ?? 'root'
    const target: SshTarget = {name: h, host: h, port: opts.port ?? 22, user, knownHosts: opts.knownHosts ?? '~/.ssh/known_hosts', sudo: user !== 'root'}
    if (opts.identityFile) target.identityFile = opts.identityFile
    const remote = await RemoteHost.connect(target, opts.connect ?? {})
    try {
      const files = await readRemoteConfigFiles(remote, h, main)
      const address = /^[0-9.]+$|:/.test(h) ? await hostCidr(remote, h) : undefined
      const src = await readDirectorConfig(main, memoryConfigFs(files), {label: `${h}:${main}`, ...(address ? {address} : {})})
      // Messages name host:path so the operator knows which box a line is on.
      const relabel = <T extends {file: string}>(x: T) => ((x.file = `${h}:${x.file}`), x)
      src.diagnostics.forEach(relabel)
      const walk = (ns: typeof src.tree) => ns.forEach((n) => (relabel(n), n.children && walk(n.children)))
      walk(src.tree)
      relabelModel(src, h)
      sources.push(src)
    } finally {
      remote.close()
    }
  }
  const r = mapInventory(sources, opts)
  // The inventory logs in the way the import did; a director reached by a name other than its
  // address keeps that name as its SSH host.
  const ssh: Record<string, unknown> = {user: opts.user ?? 'root', port: opts.port ?? 22, knownHosts: opts.knownHosts ?? '~/.ssh/known_hosts'}
  if (opts.identityFile) ssh.identityFile = opts.identityFile
  const dirs = r.inventory.directors as Array<Record<string, unknown>>
  dirs.forEach((d, i) => {
    if (String(d.address).split('/')[0] !== hosts[i]) d.ssh = {host: hosts[i]}
  })
  const {apiVersion, kind, metadata, ...rest} = r.inventory
  r.inventory = {apiVersion, kind, metadata, ssh, ...rest}
  if (opts.realServers !== false) {
    // With the same login as the directors: the inventory's ssh block is what apply will use.
    const dr = drRealServers(r.inventory)
    const read: RealServerReadOptions = {user: opts.user ?? 'root', port: opts.port ?? 22, knownHosts: opts.knownHosts ?? '~/.ssh/known_hosts'}
    if (opts.identityFile) read.identityFile = opts.identityFile
    if (opts.connect) read.connect = opts.connect
    if (opts.connectRealServer) read.connectHost = opts.connectRealServer
    applyRealServerOutcomes(r, await readRealServers(dr, read))
  }
  return r
}

/** Source locations in the model carry host:path too (the mapper matches model to tree by them). */
function relabelModel(src: DirectorSource, host: string): void {
  const seen = new Set<object>()
  const visit = (o: unknown): void => {
    if (o === null || typeof o !== 'object' || seen.has(o)) return
    seen.add(o)
    const rec = o as Record<string, unknown>
    if (typeof rec.file === 'string' && typeof rec.line === 'number') rec.file = `${host}:${rec.file}`
    for (const v of Object.values(rec)) visit(v)
  }
  visit(src.config)
}
