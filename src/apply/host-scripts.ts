/**
 * Every shell script apply and rollback send to a host, as pure builders (same input, same
 * bytes). Hosts have a POSIX sh, coreutils, gzip and iproute2; nothing else is assumed.
 * Secrets only ever travel on stdin (here-documents inside the script), never on a command line.
 */
import {createHash} from 'node:crypto'
import {posix} from 'node:path'
import type {ManagedFile} from '../model/desired-state.js'
import type {ReleaseManifest} from '../model/release.js'
import {shq} from '../remote/shell-quote.js'
import {fileRole} from '../plan/classify.js'
import {FIREWALL_UNIT, FIREWALL_UNIT_PATH, FIREWALLD_DIRECT_PATH, KAOPSD_BINARY_PATH, KAOPSD_CONFIG_PATH} from '../render/paths.js'
import {CURRENT_LINK, KAOPS_ROOT, MANAGED_LIST_PATH, RELEASES_DIR, STATE_DIR, releaseDir, releaseFilePath} from './host-layout.js'

const PRELUDE = 'set -e\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH LC_ALL=C'
const partial = (id: string) => `${releaseDir(id)}.partial`
const sha = (b: string) => createHash('sha256').update(b, 'utf8').digest('hex')
const hereDoc = (tag: string, body: string) => `<<'${tag}'\n${body}\n${tag}`

/** What is on the host now: current release id, its manifest, its kaopsd's hash, all release ids. */
export function inspectScript(): string {
  return [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH',
    `c=$(readlink ${shq(CURRENT_LINK)} 2>/dev/null || true)`,
    'c=${c##*/}',
    'echo "CUR ${c:--}"',
    `if [ -n "$c" ] && [ -f ${shq(RELEASES_DIR)}/"$c"/kaopsd ]; then echo "KS $(sha256sum < ${shq(RELEASES_DIR)}/"$c"/kaopsd | cut -d' ' -f1)"; else echo "KS -"; fi`,
    `if [ -n "$c" ] && [ -f ${shq(RELEASES_DIR)}/"$c"/manifest.json ]; then echo "CM $(base64 -w0 < ${shq(RELEASES_DIR)}/"$c"/manifest.json)"; else echo "CM -"; fi`,
    `echo "IDS $(ls -1 ${shq(RELEASES_DIR)} 2>/dev/null | tr '\\n' ' ')"`,
    'echo END',
  ].join('\n')
}

export interface Inspection {
  current: string | null
  currentKaopsdSha: string | null
  currentManifestText: string | null
  /** Every entry of the releases directory (partial uploads included). */
  entries: string[]
}

export function parseInspection(stdout: string): Inspection {
  const out: Inspection = {current: null, currentKaopsdSha: null, currentManifestText: null, entries: []}
  let ended = false
  for (const line of stdout.split('\n')) {
    const sp = line.indexOf(' ')
    const tag = sp < 0 ? line : line.slice(0, sp)
    const rest = sp < 0 ? '' : line.slice(sp + 1).trim()
    if (tag === 'CUR') out.current = rest && rest !== '-' ? rest : null
    else if (tag === 'KS') out.currentKaopsdSha = /^[0-9a-f]{64}$/.test(rest) ? rest : null
    else if (tag === 'CM') out.currentManifestText = rest && rest !== '-' ? Buffer.from(rest, 'base64').toString('utf8') : null
    else if (tag === 'IDS') out.entries = rest.split(/\s+/).filter(Boolean)
    else if (tag === 'END') ended = true
  }
  if (!ended) throw new Error('inspection output truncated')
  return out
}

/**
 * Build <id>.partial: every managed file under files/, the daemon config also at the top
 * (what `kaopsd -t` is pointed at), manifest.json. Each file is checked by sha256 on arrival.
 * The directory becomes a release only in finalizeScript, so an interrupted upload leaves
 * nothing that looks like one.
 */
export function uploadFilesScript(m: ReleaseManifest, files: ManagedFile[]): string {
  const p = partial(m.id)
  const lines = [PRELUDE, 'umask 077', `P=${shq(p)}`, 'rm -rf -- "$P"', 'mkdir -p -- "$P/files"']
  lines.push(
    'put() {',
    '  f="$P/files$1"',
    '  mkdir -p -- "$(dirname -- "$f")"',
    '  base64 -d > "$f"',
    '  s=$(sha256sum < "$f" | cut -d" " -f1)',
    '  if [ "$s" != "$3" ]; then echo "sha256 mismatch on arrival: $1" >&2; exit 3; fi',
    '  chmod "$2" "$f"',
    '}',
  )
  files.forEach((f, i) => {
    const e = m.files.find((x) => x.path === f.path)
    lines.push(`put ${shq(f.path)} ${e?.mode ?? f.mode.toString(8).padStart(4, '0')} ${sha(f.content)} ${hereDoc(`KAOPS_FILE_${i}`, Buffer.from(f.content, 'utf8').toString('base64').replace(/(.{76})/g, '$1\n').replace(/\n$/, ''))}`)
  })
  if (m.files.some((f) => f.path === KAOPSD_CONFIG_PATH)) lines.push(`cp -p -- "$P/files"${shq(KAOPSD_CONFIG_PATH)} "$P/keepalived.conf"`)
  lines.push(`cat > "$P/manifest.json" ${hereDoc('KAOPS_MANIFEST', JSON.stringify(m, null, 2))}`, 'echo OK')
  return lines.join('\n')
}

/** Reuse the current release's kaopsd (same hash): a hard link, a copy across filesystems. */
export function linkKaopsdScript(id: string, currentId: string): string {
  return [PRELUDE, `s=${shq(releaseDir(currentId))}/kaopsd`, `d=${shq(partial(id))}/kaopsd`, 'ln -f -- "$s" "$d" 2>/dev/null || cp -p -- "$s" "$d"', 'echo OK'].join('\n')
}

/** Receive kaopsd gzip-compressed on stdin, check the sha256 of what arrived, make it executable. */
export function receiveKaopsdScript(id: string, sha256: string): string {
  return [
    PRELUDE,
    'umask 077',
    `d=${shq(partial(id))}/kaopsd`,
    'gzip -dc > "$d.tmp"',
    'if [ "$(sha256sum < "$d.tmp" | cut -d" " -f1)" != ' + sha256 + ' ]; then rm -f -- "$d.tmp"; echo "kaopsd: sha256 mismatch on arrival" >&2; exit 3; fi',
    'chmod 0755 "$d.tmp"',
    'mv -f -- "$d.tmp" "$d"',
    'echo OK',
  ].join('\n')
}

/** Check the binary once more and turn <id>.partial into the release <id>. */
export function finalizeScript(id: string, kaopsdSha: string | null): string {
  const lines = [PRELUDE, `P=${shq(partial(id))}`]
  if (kaopsdSha) lines.push(`if [ "$(sha256sum < "$P/kaopsd" | cut -d" " -f1)" != ${kaopsdSha} ]; then echo "kaopsd in the release does not match" >&2; exit 3; fi`)
  lines.push(`chmod 0755 "$P"`, `mv -T -- "$P" ${shq(releaseDir(id))}`, 'echo OK')
  return lines.join('\n')
}

/** Remove a release that was made but never switched to (config test failed, apply stopped). */
export function discardReleaseScript(id: string): string {
  return `rm -rf -- ${shq(releaseDir(id))} ${shq(partial(id))}`
}

/** `kaopsd -t -f` against the release's own copy of the config; its output is the verdict. */
export function configTestScript(id: string): string {
  const r = releaseDir(id)
  return `cd ${shq(r)} && exec ./kaopsd -t -f ${shq(posix.join(r, 'files', KAOPSD_CONFIG_PATH))} 2>&1`
}

/** Point `current` at the release: a new symlink under a temp name, renamed over the old one. */
export function switchScript(id: string): string {
  const tmp = posix.join(KAOPS_ROOT, '.current.kaops-tmp')
  return [
    PRELUDE,
    `if [ ! -d ${shq(releaseDir(id))} ]; then echo "release ${id} does not exist" >&2; exit 3; fi`,
    `rm -f -- ${shq(tmp)}`,
    `ln -s -- ${shq(posix.join(posix.basename(RELEASES_DIR), id))} ${shq(tmp)}`,
    `mv -T -- ${shq(tmp)} ${shq(CURRENT_LINK)}`,
    'echo OK',
  ].join('\n')
}

/**
 * Install the release's files into place: each one differing (content or mode) copied next to
 * its target and renamed over it; files the previous managed list had that this release lacks
 * are deleted; the managed list is rewritten. Prints CHANGED/DELETED lines.
 */
export function installFilesScript(m: ReleaseManifest): string {
  const lines = [
    PRELUDE,
    'inst() {',
    // $1 path, $2 mode, $3 sha256
    '  src=$R/files$1',
    '  if [ -f "$1" ] && [ ! -L "$1" ] && [ "$(sha256sum < "$1" | cut -d" " -f1)" = "$3" ]; then',
    '    if [ "$(stat -c %a -- "$1")" != "$(printf %o "0$2")" ]; then chmod "$2" "$1"; echo "CHANGED $1"; fi',
    '    return 0',
    '  fi',
    '  d=$(dirname -- "$1"); mkdir -p -- "$d"',
    '  t=$(mktemp "$d/.kaops-install.XXXXXX")',
    '  cat -- "$src" > "$t"',
    '  if [ "$(sha256sum < "$t" | cut -d" " -f1)" != "$3" ]; then rm -f -- "$t"; echo "release copy of $1 is damaged" >&2; exit 3; fi',
    '  chmod "$2" "$t"',
    '  mv -f -- "$t" "$1"',
    '  echo "CHANGED $1"',
    '}',
    `R=${shq(releaseDir(m.id))}`,
  ]
  for (const f of m.files) lines.push(`inst ${shq(f.path)} ${f.mode} ${f.sha256}`)
  lines.push(
    `mkdir -p -- ${shq(STATE_DIR)}`,
    `new=$(mktemp ${shq(STATE_DIR)}/.managed.XXXXXX)`,
    `cat > "$new" ${hereDoc('KAOPS_PATHS', m.files.map((f) => f.path).join('\n'))}`,
    `if [ -r ${shq(MANAGED_LIST_PATH)} ]; then`,
    '  while IFS= read -r p; do',
    '    [ -n "$p" ] || continue',
    '    if ! grep -qxF -- "$p" "$new" && [ -e "$p" ]; then rm -f -- "$p"; echo "DELETED $p"; fi',
    `  done < ${shq(MANAGED_LIST_PATH)}`,
    'fi',
    'chmod 0644 "$new"',
    `mv -f -- "$new" ${shq(MANAGED_LIST_PATH)}`,
    'echo END',
  )
  return lines.join('\n')
}

export function parseInstallOutput(stdout: string): {changed: string[]; deleted: string[]} {
  const changed: string[] = []
  const deleted: string[] = []
  for (const l of stdout.split('\n')) {
    if (l.startsWith('CHANGED ')) changed.push(l.slice(8))
    else if (l.startsWith('DELETED ')) deleted.push(l.slice(8))
  }
  return {changed, deleted}
}

/** Load every sysctl drop-in of the release (in effect now; the file persists it). Without sysctl(8), write /proc/sys. */
export function sysctlScript(m: ReleaseManifest): string {
  const files = m.files.filter((f) => fileRole(f.path) === 'sysctl').map((f) => f.path)
  const lines = [PRELUDE]
  for (const f of files) {
    lines.push(
      `if command -v sysctl >/dev/null 2>&1; then sysctl -q -p ${shq(f)} >/dev/null; else`,
      `  grep -Ev '^[[:space:]]*([#;]|$)' ${shq(f)} | while IFS='=' read -r k v; do`,
      `    k=$(echo $k | tr './' '/.'); v=$(echo $v); printf '%s\\n' "$v" > "/proc/sys/$k"`,
      '  done',
      'fi',
    )
  }
  // Keys the release names but no drop-in sets (should not happen; be explicit anyway).
  for (const s of m.sysctl) {
    lines.push(`k=/proc/sys/${s.key.replace(/\./g, '/')}; if [ -w "$k" ] && [ "$(cat "$k" | tr -s '[:space:]' ' ' | sed 's/ $//')" != ${shq(s.value)} ]; then printf '%s\\n' ${shq(s.value)} > "$k"; fi`)
  }
  lines.push('echo OK')
  return lines.join('\n')
}

/** Real servers: the VIPs on lo as /32 (idempotent), and the ones no longer wanted removed. */
export function loopbackScript(add: string[], remove: string[]): string {
  const lines = [PRELUDE]
  for (const cidr of add) lines.push(`ip -o addr show dev lo | grep -qF ' ${cidr.split('/')[0]}/' || ip addr add ${shq(cidr)} dev lo`)
  for (const cidr of remove) lines.push(`ip addr del ${shq(cidr)} dev lo 2>/dev/null || true`)
  lines.push('echo OK')
  return lines.join('\n')
}

/** (Re)load the VRRP firewall rules when their file or unit changed or the unit is not active. */
export function firewallScript(m: ReleaseManifest, changed: string[]): string {
  const ruleFiles = m.files.filter((f) => fileRole(f.path) === 'firewall').map((f) => f.path)
  const touched = changed.some((p) => ruleFiles.includes(p) || p === FIREWALL_UNIT_PATH)
  const lines = [PRELUDE]
  if (changed.includes(FIREWALL_UNIT_PATH)) lines.push('systemctl daemon-reload')
  if (m.files.some((f) => f.path === FIREWALL_UNIT_PATH)) {
    lines.push(touched ? `systemctl restart ${FIREWALL_UNIT}` : `systemctl is-active -q ${FIREWALL_UNIT} || systemctl restart ${FIREWALL_UNIT}`)
    lines.push('echo "FW unit"')
  }
  if (m.files.some((f) => f.path === FIREWALLD_DIRECT_PATH) && touched) lines.push('if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1; then firewall-cmd --reload >/dev/null; fi', 'echo "FW firewalld"')
  lines.push('echo OK')
  return lines.join('\n')
}

/**
 * Units: daemon-reload when a unit file changed, enable what should be enabled, start helper
 * units (restart one whose unit file changed). kaopsd itself is left to reload-or-restart.
 */
export function unitsScript(m: ReleaseManifest, changed: string[], isDaemon: (unit: string) => boolean): string {
  const lines = [PRELUDE]
  const unitFileChanged = (u: string) => changed.some((p) => p.startsWith('/etc/systemd/system/') && posix.basename(p) === u)
  if (changed.some((p) => p.startsWith('/etc/systemd/system/'))) lines.push('systemctl daemon-reload')
  for (const u of m.units) {
    // A unit wanted stopped (the keepalived kaopsd replaces) stops in retire-keepalived, after
    // the handover: stopping it here could leave its VIPs unheld.
    if (!u.enabled && !u.active) continue
    if (u.enabled) lines.push(`systemctl is-enabled -q ${shq(u.name)} 2>/dev/null || systemctl enable -q ${shq(u.name)}`)
    if (isDaemon(u.name) || u.name === FIREWALL_UNIT) continue
    // A unit that fails to start says why (its last journal lines) in the step's error.
    const why = `{ journalctl -u ${shq(u.name)} -n 5 --no-pager -o cat >&2 || true; exit 1; }`
    if (u.active) lines.push(unitFileChanged(u.name) ? `systemctl restart ${shq(u.name)} || ${why}` : `systemctl is-active -q ${shq(u.name)} || systemctl start ${shq(u.name)} || ${why}`)
  }
  lines.push('echo OK')
  return lines.join('\n')
}

export function systemctlScript(verb: 'start' | 'stop' | 'restart' | 'reload', unit: string): string {
  return `${PRELUDE}\nsystemctl ${verb} ${shq(unit)}\necho OK`
}

/** Delete the given releases and any leftover partial upload (never the current release). */
export function pruneScript(ids: string[]): string {
  const lines = [PRELUDE, `cd ${shq(RELEASES_DIR)}`]
  for (const id of ids) lines.push(`rm -rf -- ${shq(id)}`)
  lines.push(`for p in *.partial; do [ -e "$p" ] && rm -rf -- "$p"; done`, 'echo OK')
  return lines.join('\n')
}

/** Every release's manifest, for `kaops releases` and rollback: "R <id> <b64 manifest|->" lines. */
export function listReleasesScript(): string {
  return [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH',
    `c=$(readlink ${shq(CURRENT_LINK)} 2>/dev/null || true); echo "CUR \${c##*/}"`,
    `if [ -d ${shq(RELEASES_DIR)} ]; then for d in ${shq(RELEASES_DIR)}/*/; do`,
    '  [ -d "$d" ] || continue',
    '  id=$(basename -- "$d")',
    '  case "$id" in *.partial) continue;; esac',
    '  if [ -f "$d/manifest.json" ]; then echo "R $id $(base64 -w0 < "$d/manifest.json")"; else echo "R $id -"; fi',
    'done; fi',
    'echo END',
  ].join('\n')
}


/** Whether the daemon kaopsd replaces is running or would start at boot: "A <is-active> E <is-enabled>". */
export function replacedDaemonStateScript(unit: string): string {
  return `echo "A $(systemctl is-active ${shq(unit)} 2>/dev/null | head -n1) E $(systemctl is-enabled ${shq(unit)} 2>/dev/null | head -n1)"`
}

export function parseReplacedDaemonState(stdout: string): {active: boolean; enabled: boolean} {
  const m = /A (\S*) E (\S*)/.exec(stdout)
  return {active: m?.[1] === 'active', enabled: m?.[2] === 'enabled'}
}

/** Stop the replaced daemon and keep it from starting at boot (its config files stay). */
export function retireDaemonScript(unit: string): string {
  return [PRELUDE, `systemctl disable -q --now ${shq(unit)}`, `if systemctl is-active -q ${shq(unit)}; then echo "${unit} is still active" >&2; exit 1; fi`, 'echo OK'].join('\n')
}

/** Undo retireDaemonScript: for a host rolled back with no kaops release to return to. */
export function reviveDaemonScript(unit: string, kaopsdUnit: string): string {
  return [PRELUDE, `systemctl stop ${shq(kaopsdUnit)} 2>/dev/null || true`, `systemctl enable -q --now ${shq(unit)}`, 'echo OK'].join('\n')
}

/** Ask this host's kaopsd to take instances over (priority 254 for a lease), or to end that. */
export function takeoverScript(instances: string[], opts: {leaseSeconds: number} | {end: true}): string {
  const args = instances.flatMap((i) => ['--instance', shq(i)])
  const tail = 'end' in opts ? ['--end'] : ['--lease', String(Math.round(opts.leaseSeconds))]
  return [PRELUDE, `${shq(KAOPSD_BINARY_PATH)} takeover ${[...tail, ...args].join(' ')} --json`].join('\n')
}
