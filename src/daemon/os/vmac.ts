import {readFile, writeFile} from 'node:fs/promises'
import {runCommand} from './run-command.js'

/**
 * use_vmac: a macvlan interface carrying the RFC 5798 virtual MAC (00:00:5e:00:01:VRID for
 * IPv4, 00:00:5e:00:02:VRID for IPv6) on top of the instance's interface. The VIPs live on it,
 * so every host on the segment keeps one MAC for the VIP whichever router is master: a
 * failover moves no ARP entry, only the switch's idea of which port has the MAC (learnt from
 * the new master's adverts and gratuitous ARPs, which leave from this interface).
 *
 * Mode "private": a multicast frame whose source MAC is one of our own macvlans is handed to
 * that macvlan only. The peer master's adverts carry the same virtual MAC as our vmac, so that
 * is exactly what makes a backup receive them on the vmac.
 *
 * Every link kaopsd creates or deletes goes through this file.
 */
export interface VmacSpec {
  /** The macvlan's name: use_vmac's argument, or vrrp.<VRID>. */
  name: string
  /** The instance's own interface (the macvlan's lower device). */
  parent: string
  family: 4 | 6
  vrid: number
  /** vmac_xmit_base: adverts leave from the parent (with its MAC) instead of the vmac. */
  xmitBase: boolean
}

export class VmacError extends Error {}

/** The virtual router MAC of RFC 5798 section 7.3, lower case with colons. */
export function vmacAddress(vrid: number, family: 4 | 6): string {
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new VmacError(`VRID ${vrid} is outside 1-255`)
  const hex = (n: number) => n.toString(16).padStart(2, '0')
  return `00:00:5e:00:${family === 4 ? '01' : '02'}:${hex(vrid)}`
}

/** One sysctl under /proc/sys/net, named by its path there. */
export interface Sysctl {
  path: string
  value: string
}

/**
 * The interface settings a vmac needs, on it and on its parent. Why each one:
 * - vmac arp_ignore=1: answer ARP only for addresses on the vmac (the VIPs), never for the
 *   parent's own address with the virtual MAC.
 * - vmac arp_filter=0, rp_filter=0, accept_local=1: the vmac has no address of the parent's
 *   subnet, and adverts from a peer carry the virtual MAC we also own; none of that may be
 *   dropped as martian or answered from the wrong interface.
 * - parent arp_ignore=1, arp_filter=1: the parent must not answer ARP for the VIP (which sits
 *   on the vmac) with its real MAC; otherwise clients would learn the real MAC and use_vmac
 *   would be pointless.
 * - parent arp_announce=2: replies from the VIP leave by the parent (its connected route comes
 *   first); an ARP request it sends for the client must not name the VIP as sender with the
 *   parent's MAC, or the client's entry for the VIP would flip to the real MAC (seen in the lab).
 */
export function vmacSysctls(spec: VmacSpec): Sysctl[] {
  const conf = (dev: string, key: string, value: string): Sysctl => ({path: `ipv4/conf/${dev}/${key}`, value})
  return [
    conf(spec.name, 'arp_ignore', '1'),
    conf(spec.name, 'arp_filter', '0'),
    conf(spec.name, 'rp_filter', '0'),
    conf(spec.name, 'accept_local', '1'),
    conf(spec.parent, 'arp_ignore', '1'),
    conf(spec.parent, 'arp_filter', '1'),
    conf(spec.parent, 'arp_announce', '2'),
  ]
}

/** The `ip link add` arguments that create the vmac (pure, so a test can read them). */
export function vmacCreateArgs(spec: VmacSpec): string[] {
  return ['link', 'add', 'link', spec.parent, 'name', spec.name, 'address', vmacAddress(spec.vrid, spec.family), 'type', 'macvlan', 'mode', 'private']
}

interface IpJsonLink {
  ifname: string
  address?: string
  link?: string
  linkinfo?: {info_kind?: string; info_data?: {mode?: string}}
  addr_info?: {family: string; local: string; prefixlen: number; scope?: string}[]
}

/** Whether an existing link is already the vmac we want (so a restart or reload keeps it). */
export function isWantedVmac(link: IpJsonLink, spec: VmacSpec): boolean {
  return (
    link.linkinfo?.info_kind === 'macvlan' &&
    link.linkinfo.info_data?.mode === 'private' &&
    link.link === spec.parent &&
    link.address?.toLowerCase() === vmacAddress(spec.vrid, spec.family)
  )
}

async function showLink(name: string): Promise<IpJsonLink | undefined> {
  try {
    const {stdout} = await runCommand('ip', ['-j', '-d', 'link', 'show', 'dev', name])
    return (JSON.parse(stdout || '[]') as IpJsonLink[])[0]
  } catch (err) {
    if (/does not exist|Cannot find device/i.test(String(err))) return undefined
    throw err
  }
}

/** IPv6 link-local addresses of an interface (`ip -j link` has no addresses: ask `ip -j address`). */
async function linkLocals(dev: string): Promise<{local: string; prefixlen: number}[]> {
  const {stdout} = await runCommand('ip', ['-j', '-6', 'address', 'show', 'dev', dev, 'scope', 'link'])
  const links = JSON.parse(stdout || '[]') as IpJsonLink[]
  return links.flatMap((l) => l.addr_info ?? []).filter((a) => a.local.toLowerCase().startsWith('fe80:'))
}

/** Parent values we changed, to put back when our last vmac on that parent goes. */
const savedParentSysctls = new Map<string, Sysctl[]>()

async function writeSysctl(s: Sysctl): Promise<void> {
  await writeFile(`/proc/sys/net/${s.path}`, s.value)
}

async function readSysctl(path: string): Promise<string | undefined> {
  return readFile(`/proc/sys/net/${path}`, 'utf8').then(
    (v) => v.trim(),
    () => undefined,
  )
}

/**
 * Creates the vmac (or keeps an identical one left by a previous run or kept over a reload),
 * sets its sysctls, gives an IPv6 vmac the parent's link-local address (a link-local derived
 * from the shared virtual MAC would clash between the routers), and brings it up.
 * Returns whether it was created or kept.
 */
export async function ensureVmac(spec: VmacSpec): Promise<'created' | 'kept'> {
  const existing = await showLink(spec.name)
  let outcome: 'created' | 'kept' = 'kept'
  if (existing && !isWantedVmac(existing, spec)) {
    if (existing.linkinfo?.info_kind !== 'macvlan') {
      throw new VmacError(`use_vmac ${spec.name}: an interface of that name exists and is not a macvlan; refusing to touch it`)
    }
    await runCommand('ip', ['link', 'del', 'dev', spec.name])
  }
  if (!existing || !isWantedVmac(existing, spec)) {
    await runCommand('ip', vmacCreateArgs(spec))
    outcome = 'created'
  }
  // Set before the first up, or the kernel has already made a link-local from the virtual MAC,
  // the same on every router of the segment (DAD failures, and an IPv6 source that is not ours).
  if (outcome === 'created') await runCommand('ip', ['link', 'set', 'dev', spec.name, 'addrgenmode', 'none'])

  const sysctls = vmacSysctls(spec)
  if (!savedParentSysctls.has(spec.parent)) {
    const saved: Sysctl[] = []
    for (const s of sysctls.filter((x) => x.path.includes(`/${spec.parent}/`))) {
      const v = await readSysctl(s.path)
      if (v !== undefined) saved.push({path: s.path, value: v})
    }
    savedParentSysctls.set(spec.parent, saved)
  }
  for (const s of sysctls) await writeSysctl(s)

  if (spec.family === 6) {
    const mine = await linkLocals(spec.name)
    for (const a of await linkLocals(spec.parent)) {
      if (mine.some((m) => m.local === a.local)) continue
      await runCommand('ip', ['-6', 'address', 'add', `${a.local}/${a.prefixlen}`, 'dev', spec.name, 'nodad'])
    }
  }
  await runCommand('ip', ['link', 'set', 'dev', spec.name, 'up'])
  return outcome
}

/**
 * Deletes the vmac (its addresses go with it); a vmac that is already gone is not an error.
 * `othersOnParent` says whether another vmac of ours still uses the parent: only when none does
 * are the parent's sysctls put back as they were before kaopsd changed them.
 */
export async function deleteVmac(spec: VmacSpec, othersOnParent = false): Promise<void> {
  const existing = await showLink(spec.name)
  if (existing && existing.linkinfo?.info_kind === 'macvlan') await runCommand('ip', ['link', 'del', 'dev', spec.name])
  if (othersOnParent) return
  const saved = savedParentSysctls.get(spec.parent)
  savedParentSysctls.delete(spec.parent)
  for (const s of saved ?? []) await writeSysctl(s).catch(() => undefined)
}
