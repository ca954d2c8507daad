/**
 * known_hosts parsing and lookup, pure. Strict checking is the whole point: a host is trusted
 * only when the key it presents is listed for its name (plain or hashed `|1|` entry, `[host]:port`
 * form for non-22 ports); never trust-on-first-use.
 */
import {createHmac} from 'node:crypto'

export interface KnownHostEntry {
  /** 1-based line in the file, for error messages. */
  line: number
  marker?: '@revoked' | '@cert-authority'
  /** Comma-separated patterns as written, or one hashed `|1|salt|hash` pattern. */
  patterns: string[]
  keyType: string
  /** The raw public key blob (base64-decoded). */
  key: Buffer
}

export class KnownHostsSyntaxError extends Error {}

/** Parse the text of a known_hosts file; bad lines throw naming `file:line`. */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
  const out: KnownHostEntry[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim()
    if (raw === '' || raw.startsWith('#')) continue
    const fields = raw.split(/\s+/)
    let marker: KnownHostEntry['marker']
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!
      if (m !== '@revoked' && m !== '@cert-authority') {
        throw new KnownHostsSyntaxError(`${file}:${i + 1}: unknown marker ${m}`)
      }
      marker = m
    }
    if (fields.length < 3) throw new KnownHostsSyntaxError(`${file}:${i + 1}: expected "hosts keytype key"`)
    const [hosts, keyType, b64] = fields as [string, string, string]
    if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) throw new KnownHostsSyntaxError(`${file}:${i + 1}: key is not base64`)
    const key = Buffer.from(b64, 'base64')
    out.push({line: i + 1, marker, patterns: hosts.split(','), keyType, key})
  }
  return out
}

/** The name ssh uses for a host in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${body}$`, 'i')
}

function hashedMatches(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = pattern.split('|')
  if (parts.length !== 4 || parts[1] !== '1') return false
  const salt = Buffer.from(parts[2]!, 'base64')
  const want = parts[3]!
  return createHmac('sha1', salt).update(name).digest('base64') === want
}

/** Does an entry's pattern list cover this host? A matching `!pattern` excludes it. */
export function entryMatches(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = knownHostsName(host, port)
  let matched = false
  for (const p of entry.patterns) {
    if (p.startsWith('|')) {
      if (hashedMatches(p, name)) matched = true
      continue
    }
    const negate = p.startsWith('!')
    const pat = negate ? p.slice(1) : p
    if (globToRegExp(pat).test(name)) {
      if (negate) return false
      matched = true
    }
  }
  return matched
}

export type HostKeyVerdict =
  | {ok: true; entry: KnownHostEntry}
  | {ok: false; reason: 'no-entry' | 'mismatch' | 'revoked'; message: string}

/**
 * Decide whether `presented` (the raw key blob the server sent) is trusted for host:port.
 * `file` only feeds the message.
 */
export function verifyHostKey(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  presented: Buffer,
  file: string,
  hostLabel = host,
): HostKeyVerdict {
  const name = knownHostsName(host, port)
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && entryMatches(e, host, port))
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key.equals(presented))
  if (revoked) {
    return {ok: false, reason: 'revoked', message: `host ${hostLabel} (${name}) presented a key marked @revoked in ${file}:${revoked.line}`}
  }
  const plain = mine.filter((e) => e.marker === undefined)
  const hit = plain.find((e) => e.key.equals(presented))
  if (hit) return {ok: true, entry: hit}
  if (plain.length === 0) {
    return {
      ok: false,
      reason: 'no-entry',
      message: `host ${hostLabel} (${name}) has no entry in ${file}; kaops never accepts unknown host keys`,
    }
  }
  return {
    ok: false,
    reason: 'mismatch',
    message: `host key of ${hostLabel} (${name}) does not match ${file}:${plain.map((e) => e.line).join(',')}: possible man-in-the-middle, or the host was reinstalled`,
  }
}

/** ssh2 host key algorithm names for a known_hosts key type (so the server shows a key we know). */
export function hostKeyAlgorithms(keyTypes: string[]): string[] {
  const out: string[] = []
  for (const t of keyTypes) {
    if (t === 'ssh-rsa') out.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa')
    else out.push(t)
  }
  return [...new Set(out)]
}
