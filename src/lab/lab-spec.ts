import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join, resolve} from 'node:path'
import ipaddr from 'ipaddr.js'
import {isMap, isSeq, isScalar, LineCounter, parseDocument, type Node as YamlNode, type YAMLMap} from 'yaml'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import type {HostRole} from '../model/desired-state.js'

/**
 * What `kaops lab` needs from an inventory: its hosts (name, role, address, interface), the
 * SSH settings, and the `lab:` section. Read on its own with `yaml` so the lab does not wait on
 * the full inventory schema; every error names file:line.
 */

export interface LabHost {
  name: string
  roles: HostRole[]
  /** Address without prefix, e.g. 198.18.0.11. */
  address: string
  /** Address with prefix, e.g. 198.18.0.11/24. */
  cidr: string
  /** Interface name inside the host (the inventory's `interface`, eth0 by default). */
  interface: string
}

export interface LabSpec {
  inventoryPath: string
  /** Name of the inventory (metadata.name), for messages. */
  name: string
  bridge: string
  /** This machine's own address on the lab bridge, with prefix. */
  hostCidr: string
  hostAddress: string
  suite: string
  mirror: string
  /** Extra Debian packages, sorted and de-duplicated. */
  packages: string[]
  ssh: {user: string; port: number; identityFile: string; knownHosts: string}
  hosts: LabHost[]
}

/** The only range the lab may use (RFC 2544 benchmarking): it is routed nowhere. */
export const LAB_RANGE = '198.18.0.0/15'
export const DEFAULT_MIRROR = 'http://deb.debian.org/debian'
export const DEFAULT_CACHE_DIR = join(homedir(), '.cache', 'kaops', 'lab')

// Host names become parts of netns (kaops-NAME) and veth (kv-NAME, 15 bytes at most) names.
const HOST_NAME = /^[a-z][a-z0-9-]{0,11}$/
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/
const SUITE = /^[a-z][a-z0-9-]*$/
const ROLE_LISTS: Array<[key: string, role: HostRole]> = [
  ['directors', 'director'],
  ['realServers', 'real-server'],
  ['probes', 'probe'],
]

export async function readLabSpec(path: string): Promise<LabSpec> {
  const file = resolve(path)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new KaopsError(`${path}: cannot read the inventory (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      exit: ExitCode.error,
      suggestions: ['pass an inventory file, e.g. `kaops lab up inventories/lab.yaml`'],
    })
  }
  return parseLabSpec(text, path, file)
}

/** Pure: inventory text to LabSpec, or a KaopsError naming `displayPath:line`. */
export function parseLabSpec(text: string, displayPath: string, absolutePath = resolve(displayPath)): LabSpec {
  const lines = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false})
  const at = (node: YamlNode | null | undefined): string => {
    const offset = node?.range?.[0]
    return offset === undefined ? displayPath : `${displayPath}:${lines.linePos(offset).line}`
  }
  const fail = (node: YamlNode | null | undefined, message: string): never => {
    throw new KaopsError(`${at(node)}: ${message}`, {exit: ExitCode.error})
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    const line = e.linePos?.[0]?.line
    throw new KaopsError(`${displayPath}${line ? `:${line}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`)
  }
  const root = doc.contents
  if (!isMap(root)) return fail(root, 'the inventory must be a YAML mapping')

  const child = (map: YAMLMap, key: string): YamlNode | undefined => map.get(key, true) as YamlNode | undefined
  const str = (map: YAMLMap, key: string, fallback?: string): string => {
    const node = child(map, key)
    if (node === undefined || (isScalar(node) && node.value === null)) {
      if (fallback !== undefined) return fallback
      return fail(map, `\`${key}\` is missing`)
    }
    if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') return fail(node, `\`${key}\` must be a non-empty string`)
    return node.value
  }
  const cidrIn = (node: YamlNode | undefined, value: string, what: string): {ip: string; prefix: number} => {
    if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(value)) return fail(node, `${what} ${JSON.stringify(value)} must be IPv4 with a prefix, e.g. 198.18.0.11/24`)
    const [ip, prefix] = ipaddr.IPv4.parseCIDR(value)
    if (!ip.match(ipaddr.IPv4.parseCIDR(LAB_RANGE))) return fail(node, `${what} ${value} is outside ${LAB_RANGE}: the lab only uses addresses routed nowhere`)
    return {ip: ip.toString(), prefix}
  }

  // `lab:` section.
  const labNode = child(root, 'lab')
  if (!isMap(labNode)) return fail(labNode ?? root, 'the `lab:` section (bridge, hostAddress, suite, packages) is missing')
  const bridge = str(labNode, 'bridge')
  if (!IFNAME.test(bridge)) fail(child(labNode, 'bridge'), `lab.bridge ${JSON.stringify(bridge)} is not a valid interface name (15 characters at most)`)
  const hostCidr = str(labNode, 'hostAddress')
  const host = cidrIn(child(labNode, 'hostAddress'), hostCidr, 'lab.hostAddress')
  const suite = str(labNode, 'suite', 'bookworm')
  if (!SUITE.test(suite)) fail(child(labNode, 'suite'), `lab.suite ${JSON.stringify(suite)} is not a Debian suite name`)
  const mirror = str(labNode, 'mirror', DEFAULT_MIRROR)
  if (!/^https?:\/\/[^\s]+$/.test(mirror)) fail(child(labNode, 'mirror'), `lab.mirror ${JSON.stringify(mirror)} must be an http(s) URL`)
  const packages = new Set<string>()
  const pkgNode = child(labNode, 'packages')
  if (pkgNode !== undefined && !(isScalar(pkgNode) && pkgNode.value === null)) {
    if (!isSeq(pkgNode)) fail(pkgNode, 'lab.packages must be a list of Debian package names')
    for (const item of (pkgNode as {items: YamlNode[]}).items) {
      if (!isScalar(item) || typeof item.value !== 'string' || !DEBIAN_PACKAGE.test(item.value)) fail(item, `lab.packages: ${JSON.stringify(isScalar(item) ? item.value : '?')} is not a Debian package name`)
      packages.add((item as {value: string}).value)
    }
  }

  // `ssh:` section: the lab accepts root with the lab key only.
  const sshNode = child(root, 'ssh')
  const sshMap = isMap(sshNode) ? sshNode : undefined
  if (sshNode !== undefined && !sshMap) fail(sshNode, '`ssh` must be a mapping')
  const user = sshMap ? str(sshMap, 'user', 'root') : 'root'
  if (user !== 'root') fail(sshMap ? child(sshMap, 'user') : root, `ssh.user is ${JSON.stringify(user)}, but lab hosts only accept root (with the lab key)`)
  const portNode = sshMap ? child(sshMap, 'port') : undefined
  const port = portNode === undefined ? 22 : isScalar(portNode) ? portNode.value : undefined
  if (port !== 22) fail(portNode, 'ssh.port must be 22 in the lab (sshd listens there)')
  const expand = (p: string): string => (p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : resolve(p))
  const identityFile = expand(sshMap ? str(sshMap, 'identityFile', join(DEFAULT_CACHE_DIR, 'id_ed25519')) : join(DEFAULT_CACHE_DIR, 'id_ed25519'))
  const knownHosts = expand(sshMap ? str(sshMap, 'knownHosts', join(DEFAULT_CACHE_DIR, 'known_hosts')) : join(DEFAULT_CACHE_DIR, 'known_hosts'))

  // Hosts: directors, realServers, probes. The same name may appear in several lists (one host,
  // several roles) only with the same address.
  const hosts = new Map<string, LabHost & {node: YamlNode}>()
  const byAddress = new Map<string, string>()
  const hostNet = ipaddr.IPv4.parseCIDR(hostCidr)
  for (const [key, role] of ROLE_LISTS) {
    const list = child(root, key)
    if (list === undefined || (isScalar(list) && list.value === null)) continue
    if (!isSeq(list)) fail(list, `\`${key}\` must be a list of hosts`)
    for (const item of (list as {items: YamlNode[]}).items) {
      if (!isMap(item)) return fail(item, `${key}: each host must be a mapping with name and address`)
      const name = str(item, 'name')
      if (!HOST_NAME.test(name)) fail(child(item, 'name'), `host name ${JSON.stringify(name)} must match ${HOST_NAME} (it names the host's netns and veth)`)
      const cidr = str(item, 'address')
      const {ip, prefix} = cidrIn(child(item, 'address'), cidr, `host ${name}: address`)
      const iface = str(item, 'interface', 'eth0')
      if (!IFNAME.test(iface)) fail(child(item, 'interface'), `host ${name}: interface ${JSON.stringify(iface)} is not a valid interface name`)
      const seen = hosts.get(name)
      if (seen) {
        if (seen.cidr !== cidr || seen.interface !== iface) fail(child(item, 'name'), `host ${name} is listed again with a different address or interface (first at ${at(seen.node)})`)
        if (!seen.roles.includes(role)) seen.roles.push(role)
        continue
      }
      if (ip === host.ip) fail(child(item, 'address'), `host ${name}: address ${ip} is lab.hostAddress (this machine's port on the bridge)`)
      if (!ipaddr.IPv4.parse(ip).match(hostNet) || prefix !== host.prefix) {
        fail(child(item, 'address'), `host ${name}: address ${cidr} is not on the lab bridge's subnet ${hostCidr} (this machine reaches hosts only there)`)
      }
      const other = byAddress.get(ip)
      if (other) fail(child(item, 'address'), `host ${name}: address ${ip} is already host ${other}'s`)
      byAddress.set(ip, name)
      hosts.set(name, {name, roles: [role], address: ip, cidr, interface: iface, node: item})
    }
  }
  if (hosts.size === 0) fail(root, 'no hosts: list some under directors, realServers or probes')

  const metadata = child(root, 'metadata')
  const name = isMap(metadata) ? str(metadata, 'name', 'lab') : 'lab'
  return {
    inventoryPath: absolutePath,
    name,
    bridge,
    hostCidr,
    hostAddress: host.ip,
    suite,
    mirror,
    packages: [...packages].sort(),
    ssh: {user, port: 22, identityFile, knownHosts},
    hosts: [...hosts.values()].map(({node: _node, ...h}) => h),
  }
}
