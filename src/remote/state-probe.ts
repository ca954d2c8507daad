/**
 * Reads a host's actual state in ONE round trip: a POSIX sh script (the host has only sh,
 * coreutils and iproute2: no bash, no jq) sent on stdin, printing a line format that the pure
 * parser below turns into ActualHost. Every free-form value travels base64-encoded so no path,
 * rule or version string can break the framing.
 *
 * Line format (version 1), one record per line, fields separated by one space:
 *   KAOPS-PROBE 1
 *   F <i> 0                                  desired file i is missing
 *   F <i> 1 <sha256> <mode> <size> <content> content: "b:<base64>" or "-" when too big
 *   MF <b64 path> ...same tail as F...       a path from the managed-files list
 *   S <i> 0 | S <i> 1 <b64 value>            sysctl key i
 *   U <i> <is-enabled> <is-active>           unit i
 *   B 0 | B 1 <sha256> <b64 version>         kaopsd binary
 *   FW <flavour> <0|1> <b64 rules>           one per firewall tool found
 *   A json|text|none <b64>                   `ip -j addr` (or `ip -o addr`) output
 *   ST <b64 json>                            `kaopsd status --json`, when it answered
 *   END
 */
import type {DesiredHost} from '../model/desired-state.js'
import type {ActualAddress, ActualFile, ActualFirewall, ActualHost, FirewallFlavour} from '../model/actual-state.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import type {RemoteHost} from './connection.js'
import {shq} from './shell-quote.js'

/** Where apply records the paths it manages (one per line), so plan can propose deletions. */
export const MANAGED_LIST_PATH = '/var/lib/kaops/managed-files'
/** The kaopsd executable of the current release. */
export const KAOPSD_PATH = '/opt/kaops/current/kaopsd'
/** Files larger than this are hashed but not sent (no diff, only "changed"). */
export const PROBE_CONTENT_LIMIT = 256 * 1024

export interface ProbeRequest {
  files: string[]
  sysctl: string[]
  units: string[]
}

export function probeRequestFor(desired: DesiredHost): ProbeRequest {
  return {
    files: desired.files.map((f) => f.path),
    sysctl: desired.sysctl.map((s) => s.key),
    units: desired.units.map((u) => u.name),
  }
}

/**
 * How every script kaops runs on a host begins: a known PATH and C locale, and `b64` (one line of
 * base64) for any value that may hold spaces or newlines; such a field reads back with unb64.
 */
export const SCRIPT_PRELUDE: readonly string[] = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LC_ALL=C', 'export PATH LC_ALL', 'b64() { base64 -w0; }']

/** A b64 field of a script's output; '-' (or a missing field) is empty. */
export const unb64 = (s: string | undefined): string => (s === undefined || s === '-' ? '' : Buffer.from(s, 'base64').toString('utf8'))

/** The probe script for one host. Pure: the same request gives the same bytes. */
export function buildProbeScript(req: ProbeRequest, opts: {contentLimit?: number} = {}): string {
  const lines = [
    '# kaops state probe v1 (POSIX sh)',
    ...SCRIPT_PRELUDE,
    `max=${opts.contentLimit ?? PROBE_CONTENT_LIMIT}`,
    `bin=${shq(KAOPSD_PATH)}`,
    // pf TAG PATH: hash, mode, size and (small) content of one file.
    'pf() {',
    '  if [ -f "$2" ]; then',
    '    h=$(sha256sum < "$2" | cut -d" " -f1)',
    '    ms=$(stat -L -c "%a %s" -- "$2")',
    '    if [ "${ms#* }" -le "$max" ]; then c="b:$(b64 < "$2")"; else c=-; fi',
    '    echo "$1 1 $h $ms $c"',
    '  else',
    '    echo "$1 0"',
    '  fi',
    '}',
    // psys I KEY: the value in effect, read from /proc/sys (sysctl(8) may be absent).
    'psys() {',
    `  f=/proc/sys/$(printf '%s' "$2" | tr './' '/.')`,
    '  if [ -r "$f" ] && v=$(b64 < "$f" 2>/dev/null); then echo "S $1 1 $v"; else echo "S $1 0"; fi',
    '}',
    'pu() {',
    '  if command -v systemctl >/dev/null 2>&1; then',
    '    e=$(systemctl is-enabled "$2" 2>/dev/null | head -n1)',
    '    a=$(systemctl is-active "$2" 2>/dev/null | head -n1)',
    '  else e=no-systemd; a=no-systemd; fi',
    '  echo "U $1 ${e:-not-found} ${a:-unknown}"',
    '}',
    'echo "KAOPS-PROBE 1"',
  ]
  req.files.forEach((p, i) => lines.push(`pf "F ${i}" ${shq(p)}`))
  lines.push(
    `if [ -r ${MANAGED_LIST_PATH} ]; then`,
    '  while IFS= read -r p; do',
    '    [ -n "$p" ] || continue',
    `    pf "MF $(printf '%s' "$p" | b64)" "$p"`,
    `  done < ${MANAGED_LIST_PATH}`,
    'fi',
  )
  req.sysctl.forEach((k, i) => lines.push(`psys ${i} ${shq(k)}`))
  req.units.forEach((u, i) => lines.push(`pu ${i} ${shq(u)}`))
  lines.push(
    'if [ -f "$bin" ]; then',
    '  s=$(sha256sum < "$bin" | cut -d" " -f1)',
    '  v=$(timeout 5 "$bin" --version 2>/dev/null | head -n1 | b64)',
    '  echo "B 1 $s $v"',
    'else echo "B 0"; fi',
    'if command -v nft >/dev/null 2>&1; then',
    '  if r=$(nft list table inet kaops_vrrp 2>/dev/null); then echo "FW nftables 1 $(printf \'%s\' "$r" | b64)"; else echo "FW nftables 0 -"; fi',
    'fi',
    'if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1; then',
    '  r=$(firewall-cmd --direct --get-all-rules 2>/dev/null)',
    '  if printf \'%s\\n\' "$r" | grep -Eqi "vrrp|-p 112"; then p=1; else p=0; fi',
    '  echo "FW firewalld $p $(printf \'%s\' "$r" | b64)"',
    'fi',
    'if command -v iptables >/dev/null 2>&1; then',
    '  r=$(iptables -S 2>/dev/null | grep -Ei "vrrp|-p 112")',
    '  if [ -n "$r" ]; then echo "FW iptables 1 $(printf \'%s\' "$r" | b64)"; else echo "FW iptables 0 -"; fi',
    'fi',
    'if j=$(ip -j addr show 2>/dev/null) && [ -n "$j" ]; then echo "A json $(printf \'%s\' "$j" | b64)"',
    'elif t=$(ip -o addr show 2>/dev/null); then echo "A text $(printf \'%s\' "$t" | b64)"',
    'else echo "A none -"; fi',
    'if [ -x "$bin" ] && s=$(timeout 5 "$bin" status --json 2>/dev/null) && [ -n "$s" ]; then echo "ST $(printf \'%s\' "$s" | b64)"; fi',
    'echo END',
    '',
  )
  return lines.join('\n')
}

export class ProbeParseError extends Error {}

function parseFileTail(path: string, f: string[], where: string): ActualFile {
  if (f[0] === '0') return {path, exists: false}
  if (f[0] !== '1' || f.length < 4) throw new ProbeParseError(`${where}: malformed file record`)
  const [, sha256, mode, size, content] = f
  if (!/^[0-9a-f]{64}$/.test(sha256!)) throw new ProbeParseError(`${where}: bad sha256`)
  const file: ActualFile = {path, exists: true, sha256, mode: Number.parseInt(mode!, 8), size: Number(size)}
  if (content !== undefined && content.startsWith('b:')) file.content = Buffer.from(content.slice(2), 'base64').toString('utf8')
  return file
}

/** `ip -j addr` or `ip -o addr` output to addresses; pure. */
export function parseAddresses(kind: string, text: string): ActualAddress[] {
  const out: ActualAddress[] = []
  if (kind === 'json') {
    const links = JSON.parse(text) as Array<{ifname?: string; addr_info?: Array<{family?: string; local?: string; prefixlen?: number}>}>
    for (const l of links) {
      for (const a of l.addr_info ?? []) {
        if ((a.family === 'inet' || a.family === 'inet6') && a.local && l.ifname) {
          out.push({ifname: l.ifname, cidr: `${a.local}/${a.prefixlen}`, family: a.family})
        }
      }
    }
  } else if (kind === 'text') {
    for (const line of text.split('\n')) {
      const m = /^\d+:\s+(\S+)\s+(inet6?)\s+(\S+)/.exec(line)
      if (m) out.push({ifname: m[1]!.replace(/@.*$/, ''), cidr: m[3]!, family: m[2] as 'inet' | 'inet6'})
    }
  }
  return out
}

function pickFirewall(found: ActualFirewall[]): ActualFirewall {
  return found.find((f) => f.vrrpRulesPresent) ?? found[0] ?? {flavour: 'none', vrrpRulesPresent: false, rules: ''}
}

/** Parse the probe's output for one host; errors name the host and the line. Pure. */
export function parseProbeOutput(hostName: string, req: ProbeRequest, stdout: string): ActualHost {
  const lines = stdout.split('\n')
  const at = (i: number) => `probe output of ${hostName}, line ${i + 1}`
  if (lines[0] !== 'KAOPS-PROBE 1') throw new ProbeParseError(`${at(0)}: not a kaops probe report (got ${JSON.stringify(lines[0]?.slice(0, 40))})`)
  const files: (ActualFile | undefined)[] = new Array(req.files.length)
  const managed: ActualFile[] = []
  const sysctl: ActualHost['sysctl'] = req.sysctl.map((key) => ({key}))
  const units: ActualHost['units'] = req.units.map((name) => ({name, enabled: 'unknown', active: 'unknown'}))
  let binary: ActualHost['binary'] = {path: KAOPSD_PATH, exists: false}
  const firewalls: ActualFirewall[] = []
  let addresses: ActualAddress[] = []
  let kaopsdStatus: unknown
  let ended = false
  const index = (s: string | undefined, n: number, i: number): number => {
    const k = Number(s)
    if (!Number.isInteger(k) || k < 0 || k >= n) throw new ProbeParseError(`${at(i)}: index ${s} out of range`)
    return k
  }
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') continue
    if (ended) throw new ProbeParseError(`${at(i)}: output after END`)
    const f = line.split(' ')
    const tag = f[0]
    switch (tag) {
      case 'F': {
        const k = index(f[1], req.files.length, i)
        files[k] = parseFileTail(req.files[k]!, f.slice(2), at(i))
        break
      }
      case 'MF':
        managed.push(parseFileTail(unb64(f[1]), f.slice(2), at(i)))
        break
      case 'S': {
        const k = index(f[1], req.sysctl.length, i)
        if (f[2] === '1') sysctl[k]!.value = unb64(f[3]).trim().replace(/\s+/g, ' ')
        break
      }
      case 'U': {
        const k = index(f[1], req.units.length, i)
        units[k] = {name: req.units[k]!, enabled: f[2] ?? 'unknown', active: f[3] ?? 'unknown'}
        break
      }
      case 'B':
        binary =
          f[1] === '1'
            ? {path: KAOPSD_PATH, exists: true, sha256: f[2], version: unb64(f[3]).trim() || undefined}
            : {path: KAOPSD_PATH, exists: false}
        break
      case 'FW':
        if (f[1] !== 'nftables' && f[1] !== 'firewalld' && f[1] !== 'iptables') throw new ProbeParseError(`${at(i)}: unknown firewall ${f[1]}`)
        firewalls.push({flavour: f[1] as FirewallFlavour, vrrpRulesPresent: f[2] === '1', rules: unb64(f[3])})
        break
      case 'A':
        try {
          addresses = parseAddresses(f[1] ?? 'none', unb64(f[2]))
        } catch (error) {
          throw new ProbeParseError(`${at(i)}: cannot parse addresses: ${(error as Error).message}`)
        }
        break
      case 'ST': {
        const text = unb64(f[1])
        try {
          kaopsdStatus = JSON.parse(text)
        } catch {
          kaopsdStatus = {unparsed: text.slice(0, 2000)}
        }
        break
      }
      case 'END':
        ended = true
        break
      default:
        throw new ProbeParseError(`${at(i)}: unknown record ${JSON.stringify(tag)}`)
    }
  }
  if (!ended) throw new ProbeParseError(`probe output of ${hostName}: truncated (no END line)`)
  const missing = files.findIndex((x) => x === undefined)
  if (missing >= 0) throw new ProbeParseError(`probe output of ${hostName}: no record for ${req.files[missing]}`)
  const desiredPaths = new Set(req.files)
  const host: ActualHost = {
    name: hostName,
    files: [...(files as ActualFile[]), ...managed.filter((m) => !desiredPaths.has(m.path))],
    sysctl,
    firewall: pickFirewall(firewalls),
    binary,
    units,
    addresses,
    managedPaths: managed.map((m) => m.path),
  }
  if (kaopsdStatus !== undefined) host.kaopsdStatus = kaopsdStatus
  return host
}

/** Run the probe on a connected host: one exec, one round trip. */
export async function probeHost(remote: RemoteHost, desired: DesiredHost): Promise<ActualHost> {
  const req = probeRequestFor(desired)
  const started = Date.now()
  const r = await remote.exec('sh -s', {stdin: buildProbeScript(req), timeoutMs: 60_000})
  if (r.code !== 0) {
    throw new KaopsError(`host ${desired.name}: state probe failed (exit ${r.code}): ${r.stderr.trim().slice(-500)}`, {exit: ExitCode.error})
  }
  try {
    const host = parseProbeOutput(desired.name, req, r.stdout)
    host.probeMs = Date.now() - started
    return host
  } catch (error) {
    throw new KaopsError(`host ${desired.name}: ${(error as Error).message}`, {exit: ExitCode.error})
  }
}
