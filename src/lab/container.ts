import {closeSync, openSync} from 'node:fs'
import {chmod, mkdir, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {netnsPids} from './netns.js'
import {startDetached} from './runner.js'

/**
 * A lab host's life: systemd-nspawn booting real systemd in the host's own network namespace.
 * This machine may have no systemd as PID 1 (no machined, no scopes), so nspawn runs as a plain
 * background process, not registered anywhere, tracked by its pid.
 */

export interface ContainerSpec {
  /** Machine name (kaops-NAME): how we recognise our nspawn among processes. */
  machine: string
  hostname: string
  root: string
  netnsPath: string
  logFile: string
}

export function nspawnArgs(c: ContainerSpec): string[] {
  return [
    '--quiet',
    '--boot',
    // No machined here to register with and no systemd to make a scope: stay a plain process.
    '--register=no',
    '--keep-unit',
    `--directory=${c.root}`,
    `--machine=${c.machine}`,
    `--hostname=${c.hostname}`,
    `--network-namespace-path=${c.netnsPath}`,
    // kaopsd and keepalived send VRRP over raw sockets and join multicast groups; nftables too.
    '--capability=CAP_NET_ADMIN,CAP_NET_RAW',
    '--resolv-conf=off',
    '--timezone=off',
    '--link-journal=no',
    // The console goes to a log file for boot failures; nothing reads it interactively.
    '--console=read-only',
  ]
}

/**
 * nspawn mounts /proc/sys read-only unless it made the network namespace itself; with
 * --network-namespace-path it does not count the namespace as private, so a host could not
 * set its own net.ipv4.conf.*.arp_ignore (what a DR real server needs). "network" makes only
 * /proc/sys/net writable: those keys belong to the host's own namespace, while the rest of
 * /proc/sys (the kernel this machine shares) stays read-only.
 */
export function nspawnEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {...base, SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network'}
}

/** Was this nspawn started with nspawnEnv()? (Containers from an older kaops were not.) */
export async function startedWithNetSysctl(pid: number): Promise<boolean> {
  const env = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')
  return env.split('\0').includes('SYSTEMD_NSPAWN_API_VFS_WRITABLE=network')
}

/** Starts the container; resolves with the nspawn pid (booting continues in the background). */
export async function startContainer(c: ContainerSpec): Promise<number> {
  const fd = openSync(c.logFile, 'a')
  try {
    return await startDetached('systemd-nspawn', nspawnArgs(c), fd, nspawnEnv())
  } finally {
    closeSync(fd)
  }
}

/** Is `pid` our systemd-nspawn for `machine` (and not a recycled pid)? */
export async function containerRunning(pid: number | undefined, machine: string): Promise<boolean> {
  if (!pid) return false
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
    return argv.some((a) => a.endsWith('systemd-nspawn')) && argv.includes(`--machine=${machine}`)
  } catch {
    return false
  }
}

async function exiting(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Field 3, after the parenthesised command name, is the state.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** The last lines of the console log, for error messages. */
export async function consoleTail(logFile: string, lines = 5): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '')
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '')
  return plain.trim().split('\n').slice(-lines).join(' | ')
}

/**
 * Stops a container: SIGTERM asks nspawn to halt the container's systemd cleanly; after
 * `graceMs` nspawn is killed; then anything still inside the host's namespace is killed too
 * (an orphaned container init would otherwise live on).
 */
export async function stopContainer(pid: number | undefined, machine: string, netns: string, graceMs = 12_000): Promise<void> {
  if (pid && (await containerRunning(pid, machine))) {
    const until = Date.now() + graceMs
    // Repeat the request now and then: a signal that reaches the container's systemd before it
    // has set up its handlers (still booting) is lost, and nspawn forwards each one afresh.
    for (let i = 0; Date.now() < until && (await containerRunning(pid, machine)); i++) {
      if (i % 30 === 0) process.kill(pid, 'SIGTERM')
      await sleep(100)
    }
    if (await containerRunning(pid, machine)) process.kill(pid, 'SIGKILL')
    // Its command line empties while it is still exiting: wait until it is really gone (or a
    // zombie for its new parent to reap), so "no nspawn left" holds when we return.
    for (let i = 0; i < 50 && (await exiting(pid)); i++) await sleep(100)
  }
  for (let i = 0; i < 50; i++) {
    const left = await netnsPids(netns)
    if (left.length === 0) break
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        // Gone already.
      }
    }
    await sleep(100)
  }
  // nspawn leaves an empty propagation directory per machine behind.
  await rm(join('/run/systemd/nspawn/propagate', machine), {recursive: true, force: true})
}

export interface Personality {
  hostname: string
  /** `ADDRESS NAME` lines for every lab host, so hosts find each other by name. */
  hosts: Array<{name: string; address: string}>
  hostKey: string
  hostKeyPub: string
  authorizedKey: string
  /** Real servers answer HTTP on port 80 (what the lab inventory's service balances and checks). */
  webServer?: boolean
}

const LAB_WEB_UNIT = 'kaops-lab-web.service'
const LAB_WEB_ROOT = 'srv/kaops-lab-web'

/**
 * A tiny web server (python3 is in the lab image) on every address, the loopback VIP included,
 * as DR needs; its page names the host, so a client sees which real server answered.
 */
function labWebUnit(): string {
  return [
    '[Unit]',
    'Description=kaops lab: HTTP on port 80 (the real server behind the lab service)',
    'After=network.target',
    '',
    '[Service]',
    `ExecStart=/usr/bin/python3 -m http.server 80 --bind 0.0.0.0 --directory /${LAB_WEB_ROOT}`,
    'Restart=always',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

/** Writes what makes a host itself into its root, before it boots. */
export async function personalise(root: string, p: Personality): Promise<void> {
  await writeFile(join(root, 'etc/hostname'), `${p.hostname}\n`)
  const hosts = ['127.0.0.1 localhost', `127.0.1.1 ${p.hostname}`, '::1 localhost ip6-localhost ip6-loopback', ...p.hosts.map((h) => `${h.address} ${h.name}`)]
  await writeFile(join(root, 'etc/hosts'), `${hosts.join('\n')}\n`)
  await writeFile(join(root, 'etc/ssh/ssh_host_ed25519_key'), p.hostKey, {mode: 0o600})
  await chmod(join(root, 'etc/ssh/ssh_host_ed25519_key'), 0o600)
  await writeFile(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), `${p.hostKeyPub.trim()}\n`, {mode: 0o644})
  await mkdir(join(root, 'root/.ssh'), {recursive: true, mode: 0o700})
  await writeFile(join(root, 'root/.ssh/authorized_keys'), `${p.authorizedKey.trim()}\n`, {mode: 0o600})
  await chmod(join(root, 'root/.ssh/authorized_keys'), 0o600)
  const unit = join(root, 'etc/systemd/system', LAB_WEB_UNIT)
  const wants = join(root, 'etc/systemd/system/multi-user.target.wants', LAB_WEB_UNIT)
  if (p.webServer) {
    await mkdir(join(root, LAB_WEB_ROOT), {recursive: true})
    await writeFile(join(root, LAB_WEB_ROOT, 'index.html'), `${p.hostname}\n`)
    await writeFile(unit, labWebUnit())
    await mkdir(dirname(wants), {recursive: true})
    await rm(wants, {force: true})
    await symlink(`/etc/systemd/system/${LAB_WEB_UNIT}`, wants)
  } else {
    await rm(wants, {force: true})
    await rm(unit, {force: true})
  }
}
