import {existsSync} from 'node:fs'
import {readdir, readFile, rm, rmdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import type {HostRole} from '../model/desired-state.js'
import {ensureBase, pruneBases} from './base-image.js'
import {ensureInotifyRoom} from './inotify-room.js'
import {consoleTail, containerRunning, personalise, startContainer, startedWithNetSysctl, stopContainer} from './container.js'
import {readLabSpec, type LabHost, type LabSpec} from './lab-spec.js'
import {withLabLock} from './lock.js'
import {checkNetnsSupport, deleteLink, deleteNetns, ensureBridge, ensureHostNetwork, linkExists, netnsExists} from './netns.js'
import {labPaths, machineName, netnsName, netnsPath, vethName, type LabPaths} from './paths.js'
import {ensureRoot, removeRoot, rootDir} from './rootfs.js'
import {haveCommand, tryRun} from './runner.js'
import {ensureKeyPair, knownHostsText, writeKnownHosts} from './ssh-keys.js'
import {sshAnswers} from './ssh-probe.js'
import {emptyState, readState, removeState, writeState, type HostRecord, type LabState} from './state-file.js'

/**
 * `kaops lab up|down|status`: the lab's three operations, returning typed results. Commands
 * render them; tests and benchmarks call them directly.
 */

export interface LabOptions {
  /** Progress lines for people (the command prints them to stderr). */
  progress?: (line: string) => void
  /** How long a host may take from start to sshd answering. */
  bootTimeoutMs?: number
  /** Cache directory (default KAOPS_LAB_CACHE or ~/.cache/kaops/lab). */
  cacheDir?: string
}

export type HostAction = 'created' | 'restarted' | 'repaired' | 'unchanged'

export interface LabUpResult {
  inventory: string
  bridge: string
  hostAddress: string
  base: {dir: string; built: boolean}
  hosts: Array<{name: string; roles: HostRole[]; address: string; action: HostAction}>
  /** False when the lab was already complete and nothing was touched. */
  changed: boolean
  ssh: {user: string; identityFile: string; knownHosts: string}
  seconds: number
}

export interface LabDownResult {
  inventory: string
  /** Each thing removed, e.g. "container kaops-dir1 (pid 123)", "netns kaops-dir1". */
  removed: string[]
  seconds: number
}

export interface LabHostStatus {
  name: string
  roles: HostRole[]
  address: string
  /** Created by this lab's `up` (recorded in its state file). */
  created: boolean
  netns: boolean
  running: boolean
  pid?: number
  sshd: boolean
}

export interface LabStatusResult {
  inventory: string
  bridge: {name: string; present: boolean; hostAddress: string}
  hosts: LabHostStatus[]
  /** Every host running with sshd answering. */
  ready: boolean
}

const DEFAULT_BOOT_TIMEOUT_MS = 60_000

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new KaopsError('kaops lab needs root (it makes network namespaces, links, mounts and containers)', {
      exit: ExitCode.environment,
      suggestions: ['run it as root, e.g. `sudo kaops lab up`'],
    })
  }
}

async function requireTools(): Promise<void> {
  const tools: Array<[cmd: string, pkg: string]> = [
    ['systemd-nspawn', 'systemd-container'],
    ['ssh-keygen', 'openssh-client'],
    ['mount', 'mount'],
  ]
  for (const [cmd, pkg] of tools) {
    if (!(await haveCommand(cmd))) {
      throw new KaopsError(`${cmd} is not installed: the lab needs it`, {exit: ExitCode.environment, suggestions: [`apt-get install ${pkg} (or run scripts/install-deps.sh)`]})
    }
  }
}

/** Serialises state writes made by hosts coming up in parallel. */
function stateWriter(file: string, state: LabState): () => Promise<void> {
  let chain = Promise.resolve()
  return () => (chain = chain.then(() => writeState(file, state)))
}

export async function labUp(inventoryPath: string, opts: LabOptions = {}): Promise<LabUpResult> {
  const started = Date.now()
  const progress = opts.progress ?? (() => {})
  const spec = await readLabSpec(inventoryPath)
  requireRoot()
  await checkNetnsSupport()
  await requireTools()
  const paths = labPaths(opts.cacheDir)
  return withLabLock(paths.lockFile, 'lab up', async () => {
    const stateFile = paths.stateFile(spec.bridge)
    const state = (await readState(stateFile)) ?? emptyState(spec.inventoryPath)
    state.inventory = spec.inventoryPath
    const save = stateWriter(stateFile, state)
    let changed = false

    // Hosts an earlier `up` made that the inventory no longer names.
    for (const name of Object.keys(state.hosts)) {
      if (!spec.hosts.some((h) => h.name === name)) {
        progress(`${name}: no longer in the inventory, removing`)
        await tearDownHost(state.hosts[name]!)
        delete state.hosts[name]
        await save()
        changed = true
      }
    }
    refuseForeign(spec, state)

    const base = await ensureBase(spec, paths, progress)
    changed ||= base.built
    const clientKey = await ensureKeyPair(spec.ssh.identityFile, 'kaops-lab')
    const raised = await ensureInotifyRoom(spec.hosts.filter((h) => !state.hosts[h.name]).length)
    if (raised) progress(raised)

    const createdNow = new Set<string>()
    let bridgeCreatedNow = false
    try {
      if (!(await linkExists(spec.bridge))) {
        state.bridge = {name: spec.bridge, cidr: spec.hostCidr}
        await save()
        bridgeCreatedNow = true
        changed = true
        progress(`bridge ${spec.bridge} ${spec.hostCidr}`)
      }
      await ensureBridge(spec.bridge, spec.hostCidr)

      // Every host is let finish (or fail) before any cleanup, so none is started behind it.
      const settled = await Promise.allSettled(
        spec.hosts.map(async (host) => {
          if (!state.hosts[host.name]) createdNow.add(host.name)
          const action = await upHost(spec, paths, state, save, host, base.dir, clientKey, opts.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS, progress)
          return {name: host.name, roles: host.roles, address: host.address, action}
        }),
      )
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) throw failed.reason
      const actions = settled.map((r) => (r as PromiseFulfilledResult<LabUpResult['hosts'][number]>).value)
      changed ||= actions.some((a) => a.action !== 'unchanged')

      const hostKeys = await Promise.all(
        spec.hosts.map(async (h) => ({name: h.name, address: h.address, hostKey: await readFile(join(paths.hostDir(h.name), 'ssh_host_ed25519_key.pub'), 'utf8')})),
      )
      const known = knownHostsText(hostKeys)
      if ((await readFile(spec.ssh.knownHosts, 'utf8').catch(() => '')) !== known) {
        await writeKnownHosts(spec.ssh.knownHosts, known)
        changed = true
      }
      state.knownHosts = spec.ssh.knownHosts
      await save()
      await pruneBases(paths, new Set([base.dir, ...(await basesInUse(paths))]))
      return {
        inventory: spec.inventoryPath,
        bridge: spec.bridge,
        hostAddress: spec.hostCidr,
        base,
        hosts: actions,
        changed,
        ssh: {user: spec.ssh.user, identityFile: spec.ssh.identityFile, knownHosts: spec.ssh.knownHosts},
        seconds: (Date.now() - started) / 1000,
      }
    } catch (error) {
      // Leave nothing half-made of what this run created; hosts that existed before stay
      // recorded for the next `up` to repair.
      for (const name of createdNow) {
        const rec = state.hosts[name]
        if (!rec) continue
        await tearDownHost(rec).catch(() => {})
        delete state.hosts[name]
      }
      if (bridgeCreatedNow && Object.keys(state.hosts).length === 0) {
        await deleteLink(spec.bridge).catch(() => {})
        delete state.bridge
      }
      if (Object.keys(state.hosts).length === 0 && !state.bridge) {
        await removeState(stateFile)
        await rmdir(join(paths.cacheDir, 'hosts')).catch(() => {})
      } else await save()
      throw error
    }
  }, {onWait: progress})
}

/** Base images any lab in this cache (any bridge's state file) still boots from. */
async function basesInUse(paths: LabPaths): Promise<string[]> {
  const used: string[] = []
  for (const entry of await readdir(paths.cacheDir).catch(() => [] as string[])) {
    if (!/^state-.*\.json$/.test(entry)) continue
    const state = await readState(join(paths.cacheDir, entry)).catch(() => undefined)
    for (const h of Object.values(state?.hosts ?? {})) used.push(h.base)
  }
  return used
}

/** Names `up` would use that something else already holds: never adopt, never remove them. */
function refuseForeign(spec: LabSpec, state: LabState): void {
  for (const host of spec.hosts) {
    if (state.hosts[host.name]) continue
    const ns = netnsName(host.name)
    if (netnsExists(ns)) {
      throw new KaopsError(`network namespace ${ns} exists but this lab did not create it (no record in its state file)`, {
        exit: ExitCode.environment,
        suggestions: [`if it is a leftover, remove it: ip netns del ${ns}`],
      })
    }
  }
}

async function upHost(
  spec: LabSpec,
  paths: LabPaths,
  state: LabState,
  save: () => Promise<void>,
  host: LabHost,
  base: string,
  clientKey: string,
  bootTimeoutMs: number,
  progress: (line: string) => void,
): Promise<HostAction> {
  const machine = machineName(host.name)
  let rec = state.hosts[host.name]
  const isNew = !rec
  if (!rec) {
    if (await linkExists(vethName(host.name))) {
      throw new KaopsError(`link ${vethName(host.name)} exists but this lab did not create it`, {
        exit: ExitCode.environment,
        suggestions: [`if it is a leftover, remove it: ip link del ${vethName(host.name)}`],
      })
    }
    // Recorded before anything is made, so a crash mid-way is still ours to clean up.
    rec = {name: host.name, cidr: host.cidr, interface: host.interface, netns: netnsName(host.name), veth: vethName(host.name), dir: paths.hostDir(host.name), base}
    state.hosts[host.name] = rec
    await save()
  }
  let running = await containerRunning(rec.pid, machine)
  let action: HostAction = isNew ? 'created' : 'unchanged'

  // A changed address, interface or base image means this host must be made again.
  if (!isNew && (rec.cidr !== host.cidr || rec.interface !== host.interface || rec.base !== base)) {
    progress(`${host.name}: inventory or base image changed, rebuilding the host`)
    await tearDownHost(rec)
    rec = {...rec, cidr: host.cidr, interface: host.interface, base, pid: undefined, rootMode: undefined}
    state.hosts[host.name] = rec
    await save()
    running = false
    action = 'repaired'
  }

  const net = await ensureHostNetwork({netns: rec.netns, veth: rec.veth, inside: host.interface, cidr: host.cidr, bridge: spec.bridge})
  if (net.changed) {
    // The inside end may have a new MAC: forget the old one rather than wait for it to go stale.
    await tryRun('ip', ['neigh', 'flush', 'to', host.address, 'dev', spec.bridge])
    if (action === 'unchanged') {
      progress(`${host.name}: network repaired`)
      action = 'repaired'
    }
  }

  if (running && !(await startedWithNetSysctl(rec.pid!))) {
    // Booted by an older kaops with /proc/sys/net read-only: apply could not set arp_ignore there.
    progress(`${host.name}: restarting the container so it may set its own net.* sysctls`)
    running = false
    if (action === 'unchanged') action = 'repaired'
  }
  if (running) {
    // Running and answering: nothing to do. Running but silent: give it the boot timeout
    // (it may still be booting) and restart it after that.
    if (await sshAnswers(host.address, 22, 2000)) return action
    try {
      await waitForBoot(host, rec, bootTimeoutMs)
      return action
    } catch {
      progress(`${host.name}: container does not answer, restarting it`)
    }
  } else if (!isNew && action === 'unchanged') {
    progress(`${host.name}: container is not running, restarting it`)
  }

  await stopContainer(rec.pid, machine, rec.netns)
  rec.rootMode = await ensureRoot(rec.dir, base, rec.rootMode)
  await save()
  const keyFile = join(rec.dir, 'ssh_host_ed25519_key')
  const hostKeyPub = await ensureKeyPair(keyFile, `root@${host.name}`)
  await personalise(rootDir(rec.dir), {
    hostname: host.name,
    hosts: spec.hosts.map((h) => ({name: h.name, address: h.address})),
    hostKey: await readFile(keyFile, 'utf8'),
    hostKeyPub,
    authorizedKey: clientKey,
    webServer: host.roles.includes('real-server'),
  })
  const logFile = join(rec.dir, 'console.log')
  await writeFile(logFile, '')
  progress(`${host.name}: booting ${host.cidr} (${rec.rootMode} root)`)
  rec.pid = await startContainer({machine, hostname: host.name, root: rootDir(rec.dir), netnsPath: netnsPath(host.name), logFile})
  await save()
  await waitForBoot(host, rec, bootTimeoutMs)
  progress(`${host.name}: sshd answers on ${host.address}:22`)
  return action === 'unchanged' ? 'restarted' : action
}

async function waitForBoot(host: LabHost, rec: HostRecord, timeoutMs: number): Promise<void> {
  const machine = machineName(host.name)
  const logFile = join(rec.dir, 'console.log')
  const until = Date.now() + timeoutMs
  for (;;) {
    if (!(await containerRunning(rec.pid, machine))) {
      throw new KaopsError(`host ${host.name}: its container exited while booting: ${await consoleTail(logFile)}`, {
        exit: ExitCode.environment,
        suggestions: [`see ${logFile}`],
      })
    }
    if (await sshAnswers(host.address, 22, 1000)) return
    if (Date.now() > until) {
      throw new KaopsError(`host ${host.name} did not boot within ${Math.round(timeoutMs / 1000)} s (sshd not answering on ${host.address}:22): ${await consoleTail(logFile, 3)}`, {
        exit: ExitCode.environment,
        suggestions: [`see ${logFile}; \`kaops lab up\` again retries, \`kaops lab down\` removes the lab`],
      })
    }
    await sleep(250)
  }
}

/** Removes one host: its container and every process in its namespace, link, namespace, dirs. */
async function tearDownHost(rec: HostRecord): Promise<string[]> {
  const removed: string[] = []
  const machine = machineName(rec.name)
  if (await containerRunning(rec.pid, machine)) removed.push(`container ${machine} (pid ${rec.pid})`)
  await stopContainer(rec.pid, machine, rec.netns)
  if (await deleteLink(rec.veth)) removed.push(`link ${rec.veth}`)
  if (await deleteNetns(rec.netns)) removed.push(`netns ${rec.netns}`)
  if (existsSync(rec.dir)) {
    await removeRoot(rec.dir)
    removed.push(`directory ${rec.dir}`)
  }
  return removed
}

export async function labDown(inventoryPath: string, opts: LabOptions = {}): Promise<LabDownResult> {
  const started = Date.now()
  const progress = opts.progress ?? (() => {})
  const spec = await readLabSpec(inventoryPath)
  requireRoot()
  const paths = labPaths(opts.cacheDir)
  return withLabLock(paths.lockFile, 'lab down', async () => {
    const stateFile = paths.stateFile(spec.bridge)
    const state = await readState(stateFile)
    const removed: string[] = []
    if (!state) return {inventory: spec.inventoryPath, removed, seconds: (Date.now() - started) / 1000}
    await Promise.all(
      Object.values(state.hosts).map(async (rec) => {
        const gone = await tearDownHost(rec)
        for (const g of gone) progress(`${rec.name}: removed ${g}`)
        removed.push(...gone)
      }),
    )
    state.hosts = {}
    await writeState(stateFile, state)
    if (state.bridge && (await deleteLink(state.bridge.name))) {
      removed.push(`bridge ${state.bridge.name}`)
      progress(`removed bridge ${state.bridge.name}`)
    }
    if (state.knownHosts && existsSync(state.knownHosts)) {
      await rm(state.knownHosts, {force: true})
      removed.push(`file ${state.knownHosts}`)
    }
    await removeState(stateFile)
    // The per-host parent directory, when empty: it was made by `up`.
    await rmdir(join(paths.cacheDir, 'hosts')).catch(() => {})
    return {inventory: spec.inventoryPath, removed, seconds: (Date.now() - started) / 1000}
  }, {onWait: progress})
}

export async function labStatus(inventoryPath: string, opts: LabOptions = {}): Promise<LabStatusResult> {
  const spec = await readLabSpec(inventoryPath)
  const paths = labPaths(opts.cacheDir)
  const state = (await readState(paths.stateFile(spec.bridge)).catch(() => undefined)) ?? emptyState(spec.inventoryPath)
  const bridgePresent = await bridgeHasAddress(spec)
  const hosts = await Promise.all(
    spec.hosts.map(async (h): Promise<LabHostStatus> => {
      const rec = state.hosts[h.name]
      const running = await containerRunning(rec?.pid, machineName(h.name))
      // Only probe when this machine's port on the lab bridge exists: otherwise the address
      // would be sent wherever the default route goes, and lab traffic must go nowhere else.
      const sshd = bridgePresent && netnsExists(netnsName(h.name)) ? await sshAnswers(h.address, 22, 1500) : false
      return {
        name: h.name,
        roles: h.roles,
        address: h.address,
        created: rec !== undefined,
        netns: netnsExists(netnsName(h.name)),
        running,
        ...(running && rec?.pid ? {pid: rec.pid} : {}),
        sshd,
      }
    }),
  )
  return {
    inventory: spec.inventoryPath,
    bridge: {name: spec.bridge, present: bridgePresent, hostAddress: spec.hostCidr},
    hosts,
    ready: hosts.every((h) => h.running && h.sshd),
  }
}

async function bridgeHasAddress(spec: LabSpec): Promise<boolean> {
  const r = await tryRun('ip', ['-4', '-j', 'addr', 'show', 'dev', spec.bridge]).catch(() => undefined)
  if (!r || r.code !== 0) return false
  return r.stdout.includes(`"local":"${spec.hostAddress}"`)
}
