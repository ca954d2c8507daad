import {existsSync} from 'node:fs'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {run, tryRun} from './runner.js'

/**
 * The lab's network: one bridge with this machine's port, and per host a network namespace
 * joined to it by a veth pair. No routes, no forwarding, no NAT are added anywhere: lab
 * addresses are reachable from this machine and from each other, and from nowhere else.
 */

export async function linkExists(name: string): Promise<boolean> {
  return (await tryRun('ip', ['link', 'show', 'dev', name])).code === 0
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`)
}

/** Fails with one clear line when this kernel or machine cannot make network namespaces. */
export async function checkNetnsSupport(): Promise<void> {
  if (!existsSync('/proc/self/ns/net')) {
    throw new KaopsError('this kernel has no network namespaces (no /proc/self/ns/net): the lab needs CONFIG_NET_NS', {exit: ExitCode.environment})
  }
  try {
    await run('ip', ['netns', 'list'])
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KaopsError('`ip` (iproute2) is not installed: the lab makes namespaces and links with it', {exit: ExitCode.environment, suggestions: ['apt-get install iproute2']})
    }
    throw new KaopsError(`\`ip netns\` does not work here: ${(error as Error).message}`, {exit: ExitCode.environment})
  }
}

/** Creates the bridge if missing; returns true when this call created it. */
export async function ensureBridge(name: string, cidr: string): Promise<boolean> {
  let created = false
  if (!(await linkExists(name))) {
    await run('ip', ['link', 'add', name, 'type', 'bridge'])
    created = true
  }
  const kind = (await run('ip', ['-d', '-j', 'link', 'show', 'dev', name])).stdout
  if (!/"info_kind":"bridge"/.test(kind)) {
    throw new KaopsError(`${name} exists and is not a bridge: lab.bridge must name a bridge of its own`, {exit: ExitCode.environment})
  }
  await ensureAddress(undefined, name, cidr)
  await run('ip', ['link', 'set', 'dev', name, 'up'])
  return created
}

/** `ip` with `-n NS` when in a namespace. */
const ipIn = (ns: string | undefined, args: string[]): string[] => (ns ? ['-n', ns, ...args] : args)

async function ensureAddress(ns: string | undefined, dev: string, cidr: string): Promise<boolean> {
  const shown = (await run('ip', ipIn(ns, ['-4', '-j', 'addr', 'show', 'dev', dev]))).stdout
  const [ip, prefix] = cidr.split('/')
  const have = (JSON.parse(shown || '[]') as Array<{addr_info?: Array<{local: string; prefixlen: number}>}>).some((l) =>
    (l.addr_info ?? []).some((a) => a.local === ip && String(a.prefixlen) === prefix),
  )
  if (!have) await run('ip', ipIn(ns, ['addr', 'add', cidr, 'dev', dev]))
  return !have
}

export interface HostNetwork {
  netns: string
  /** Outside end, on the bridge. */
  veth: string
  /** Inside end's name (the inventory's interface). */
  inside: string
  cidr: string
  bridge: string
}

/**
 * Makes (or repairs) a host's namespace and link. The inside end is created directly in the
 * namespace under its final name, so it never clashes with this machine's own eth0.
 * Returns whether anything had to be made or fixed.
 */
export async function ensureHostNetwork(n: HostNetwork): Promise<{changed: boolean}> {
  let changed = false
  if (!netnsExists(n.netns)) {
    await run('ip', ['netns', 'add', n.netns])
    changed = true
  }
  const outside = await linkExists(n.veth)
  const inside = (await tryRun('ip', ['-n', n.netns, 'link', 'show', 'dev', n.inside])).code === 0
  if (!outside || !inside) {
    // Half a pair is useless: remove what is left and make both ends again.
    if (outside) await run('ip', ['link', 'del', 'dev', n.veth])
    if (inside) await run('ip', ['-n', n.netns, 'link', 'del', 'dev', n.inside])
    await run('ip', ['link', 'add', n.veth, 'type', 'veth', 'peer', 'name', n.inside, 'netns', n.netns])
    changed = true
  }
  if (await ensureAddress(n.netns, n.inside, n.cidr)) changed = true
  await run('ip', ['-n', n.netns, 'link', 'set', 'dev', 'lo', 'up'])
  await run('ip', ['-n', n.netns, 'link', 'set', 'dev', n.inside, 'up'])
  await run('ip', ['link', 'set', 'dev', n.veth, 'master', n.bridge])
  await run('ip', ['link', 'set', 'dev', n.veth, 'up'])
  return {changed}
}

/** Pids of every process whose network namespace is `netns`. */
export async function netnsPids(netns: string): Promise<number[]> {
  if (!netnsExists(netns)) return []
  const r = await tryRun('ip', ['netns', 'pids', netns])
  return r.stdout.split(/\s+/).filter(Boolean).map(Number)
}

export async function deleteLink(name: string): Promise<boolean> {
  if (!(await linkExists(name))) return false
  await run('ip', ['link', 'del', 'dev', name])
  return true
}

export async function deleteNetns(name: string): Promise<boolean> {
  if (!netnsExists(name)) return false
  await run('ip', ['netns', 'del', name])
  return true
}
