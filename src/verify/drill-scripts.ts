/**
 * The shell the drill runs on the hosts, as pure functions (same input, same bytes; tested).
 * Background helpers (probe, capture, address monitor) start detached under a per-drill tag,
 * write their pid to /run/kaops-drill/<tag>.<what>.pid, and are stopped by that pid only.
 * Every script prints `T <epoch ms>` of the host's clock when it acted, for the timeline.
 */
import {shq} from '../remote/shell-quote.js'
import {KAOPSD_UNIT} from '../render/paths.js'

export const DRILL_DIR = '/run/kaops-drill'
const PRE = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH; LC_ALL=C; export LC_ALL'
const NOW = 'echo "T $(date +%s%3N)"'

const file = (tag: string, what: string, ext: string) => `${DRILL_DIR}/${tag}.${what}.${ext}`

function background(tag: string, what: string, command: string): string {
  const pid = file(tag, what, 'pid')
  const log = file(tag, what, 'log')
  return [PRE, `mkdir -p ${DRILL_DIR}`, `rm -f ${shq(log)}`, `setsid sh -c ${shq(command)} > ${shq(log)} 2> ${shq(file(tag, what, 'err'))} < /dev/null &`, `echo $! > ${shq(pid)}`, NOW].join('\n')
}

/**
 * The probe: a TCP connect to VIP:port every `intervalMs`, one line per attempt
 * `<epoch ms> <1|0> <ms taken>`; a refused connection counts as answered (the VIP is reachable).
 * python3 when present (a connect costs no fork), else curl in a sh loop.
 */
export function probePython(address: string, port: number, intervalMs: number, timeoutMs: number, maxSeconds: number): string {
  return [
    'import socket, sys, time',
    `h, p, iv, to, end = ${JSON.stringify(address)}, ${port}, ${intervalMs / 1000}, ${timeoutMs / 1000}, time.time() + ${maxSeconds}`,
    'while time.time() < end:',
    '    t = time.time(); s = socket.socket(); s.settimeout(to); ok = 1',
    '    try: s.connect((h, p))',
    '    except ConnectionRefusedError: pass',
    '    except OSError: ok = 0',
    '    finally: s.close()',
    '    d = time.time() - t',
    '    sys.stdout.write("%d %d %.1f\\n" % (t * 1000, ok, d * 1000)); sys.stdout.flush()',
    '    if iv > d: time.sleep(iv - d)',
  ].join('\n')
}

export function startProbeScript(tag: string, address: string, port: number, intervalMs: number, timeoutMs: number, maxSeconds: number): string {
  const py = probePython(address, port, intervalMs, timeoutMs, maxSeconds)
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}/`
  const sh = [
    `end=$(( $(date +%s) + ${maxSeconds} ))`,
    'while [ "$(date +%s)" -lt "$end" ]; do',
    '  t=$(date +%s%3N)',
    `  curl -s -o /dev/null --max-time ${timeoutMs / 1000} ${shq(url)}; rc=$?`,
    '  case $rc in 0|7|52|56) ok=1;; *) ok=0;; esac',
    '  echo "$t $ok 0"',
    `  sleep ${intervalMs / 1000}`,
    'done',
  ].join('\n')
  return background(tag, 'probe', `if command -v python3 >/dev/null 2>&1; then exec python3 -c ${shq(py)}; else ${sh}\nfi`)
}

/** tcpdump of VRRP and ARP on `iface`, packet-buffered, as root (it would drop privileges and fail to write). */
export function startCaptureScript(tag: string, iface: string, maxSeconds: number): string {
  const pcap = file(tag, 'capture', 'pcap')
  return [
    background(tag, 'capture', `exec timeout ${maxSeconds} tcpdump -i ${shq(iface)} -n -U -Z root -s 256 -w ${shq(pcap)} 'ip proto 112 or arp'`),
    // Wait until tcpdump listens, so the first packets of the drill are not lost.
    `i=0; while [ $i -lt 50 ] && ! grep -q listening ${shq(file(tag, 'capture', 'err'))} 2>/dev/null; do sleep 0.1; i=$((i+1)); done`,
    `grep -q listening ${shq(file(tag, 'capture', 'err'))} || { cat ${shq(file(tag, 'capture', 'err'))} >&2; exit 3; }`,
  ].join('\n')
}

/** `ip -ts monitor address` in UTC, so the parser can read its local-time stamps. */
export function startAddrMonitorScript(tag: string, maxSeconds: number): string {
  return background(tag, 'addr', `TZ=UTC exec timeout ${maxSeconds} ip -ts monitor address`)
}

/** Stop one background helper by its recorded pid; print its log base64-encoded after `DATA`. */
export function stopScript(tag: string, what: 'probe' | 'capture' | 'addr', output: 'log' | 'pcap'): string {
  const pid = shq(file(tag, what, 'pid'))
  return [
    PRE,
    `if [ -f ${pid} ]; then p=$(cat ${pid}); kill -INT -- -"$p" 2>/dev/null || kill -INT "$p" 2>/dev/null`,
    '  i=0; while [ $i -lt 30 ] && kill -0 "$p" 2>/dev/null; do sleep 0.1; i=$((i+1)); done',
    `  kill -KILL -- -"$p" 2>/dev/null; rm -f ${pid}; fi`,
    `f=${shq(file(tag, what, output))}`,
    'if [ -f "$f" ]; then echo "DATA $(base64 -w0 < "$f")"; else echo "DATA -"; fi',
    `rm -f ${shq(file(tag, what, 'log'))} ${shq(file(tag, what, 'err'))} ${shq(file(tag, what, 'pcap'))}`,
  ].join('\n')
}

export function parseData(stdout: string): Buffer {
  const line = stdout.split('\n').find((l) => l.startsWith('DATA '))
  if (!line) throw new Error('no DATA line in the output')
  const v = line.slice(5).trim()
  return v === '-' ? Buffer.alloc(0) : Buffer.from(v, 'base64')
}

export function parseT(stdout: string): number | undefined {
  const m = /^T (\d+)$/m.exec(stdout)
  return m ? Number(m[1]) : undefined
}

export interface FaultPlan {
  inject: string
  restore: string
  /** What the timeline shows, for the fault and for the restore. */
  what: string
  restoreWhat: string
  /** The restore happens by itself after this many seconds (link: SSH rides on that link). */
  selfRestoreSeconds?: number
}

/**
 * How to inject each fault on the master and undo it. `trackScript`: the absolute path of an
 * executable track script to swap for one that fails (and back).
 */
export function faultPlan(fault: 'graceful' | 'crash' | 'link' | 'track', opts: {iface: string; linkDownSeconds: number; trackScript?: string; tag: string}): FaultPlan {
  const unit = KAOPSD_UNIT
  switch (fault) {
    case 'graceful':
      return {inject: [PRE, NOW, `systemctl stop ${unit}`].join('\n'), restore: [PRE, NOW, `systemctl start ${unit}`].join('\n'), what: `systemctl stop ${unit}`, restoreWhat: `systemctl start ${unit}`}
    case 'crash': {
      // A runtime drop-in turns Restart= off first: systemd restarting the daemon (and our
      // `stop` then stopping it gracefully) would turn the crash into a handover.
      const dropIn = `/run/systemd/system/${unit}.d/kaops-drill.conf`
      return {
        inject: [PRE, `mkdir -p /run/systemd/system/${unit}.d`, `printf '[Service]\\nRestart=no\\n' > ${dropIn}`, 'systemctl daemon-reload', NOW,
          // systemd may report a failure for processes already gone; what matters is that none is left.
          `systemctl kill -s KILL ${unit} 2>/dev/null || true`,
          `i=0; while [ $i -lt 20 ] && [ "$(systemctl show -p MainPID --value ${unit})" != 0 ]; do sleep 0.05; i=$((i+1)); done`,
          `[ "$(systemctl show -p MainPID --value ${unit})" = 0 ] || { echo "${unit} survived SIGKILL" >&2; exit 3; }`].join('\n'),
        restore: [PRE, `rm -f ${dropIn}`, 'systemctl daemon-reload', NOW, `systemctl reset-failed ${unit} 2>/dev/null; systemctl start ${unit}`].join('\n'),
        what: 'kill -9 kaopsd',
        restoreWhat: `systemctl start ${unit}`,
      }
    }
    case 'link': {
      const i = shq(opts.iface)
      const cmd = `ip link set dev ${i} down; sleep ${opts.linkDownSeconds}; ip link set dev ${i} up`
      return {
        inject: [PRE, NOW, `setsid sh -c ${shq(cmd)} > /dev/null 2>&1 < /dev/null &`].join('\n'),
        restore: [PRE, NOW, `ip link set dev ${i} up`].join('\n'),
        what: `ip link set ${opts.iface} down for ${opts.linkDownSeconds} s`,
        restoreWhat: `${opts.iface} up`,
        selfRestoreSeconds: opts.linkDownSeconds,
      }
    }
    case 'track': {
      if (!opts.trackScript) throw new Error('no track script to fail')
      const p = shq(opts.trackScript)
      const saved = shq(`${opts.trackScript}.kaops-drill-${opts.tag}`)
      return {
        inject: [PRE, NOW, `[ -f ${p} ] || { echo "no ${opts.trackScript}" >&2; exit 3; }`, `mv -f ${p} ${saved}`, `printf '#!/bin/sh\\nexit 1\\n' > ${p}`, `chmod 0755 ${p}`].join('\n'),
        restore: [PRE, NOW, `if [ -f ${saved} ]; then mv -f ${saved} ${p}; fi`].join('\n'),
        what: `track script ${opts.trackScript} made to fail`,
        restoreWhat: `track script ${opts.trackScript} put back`,
      }
    }
  }
}

/** Which director holds `address` right now (for waiting on takeover and failback). */
export function holdsScript(address: string): string {
  return [PRE, `if ip -o addr show | grep -q " inet6\\? ${address.replace(/\./g, '\\.')}/"; then echo HOLDS; else echo FREE; fi`].join('\n')
}

/** Background leftovers of a tag, killed by their recorded pids only. */
export function cleanupScript(tag: string): string {
  return [PRE, `for f in ${DRILL_DIR}/${tag}.*.pid; do [ -f "$f" ] || continue; p=$(cat "$f"); kill -KILL -- -"$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null; rm -f "$f"; done`, `rm -f ${DRILL_DIR}/${tag}.*`].join('\n')
}
