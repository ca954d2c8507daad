import type {GlobalDefs, IpAddressConfig, KeepalivedConfig, RouteConfig, VrrpInstanceConfig} from '../../model/keepalived-config.js'
import type {RouterConfig} from '../vrrp/index.js'
import type {InterfaceAddress} from '../os/addresses.js'
import type {RouteSpec} from '../os/routes.js'
import type {VmacSpec} from '../os/vmac.js'

/**
 * One vrrp_instance as the runtime needs it: the protocol core's RouterConfig plus everything
 * the OS side needs (which interface, what each advertised address means to `ip`). Pure: the
 * only host fact it needs, the interface's own address, is passed in.
 */
export interface InstanceSpec {
  name: string
  /** The interface the VIPs go on and whose link state counts: the vmac with use_vmac. */
  interfaceName: string
  /**
   * Where adverts are sent and received: the vmac, or its parent with vmac_xmit_base (implied by
   * unicast peers); else interfaceName.
   */
  xmitInterface: string
  /** use_vmac: the macvlan to create before the instance runs (interfaceName is its name). */
  vmac?: VmacSpec
  family: 4 | 6
  router: RouterConfig
  /** Keyed by the address text used in router.addresses / router.excludedAddresses. */
  addresses: Map<string, InterfaceAddress>
  /** Keyed by the opaque ids in router.routes. */
  routes: Map<string, RouteSpec>
  /** Everything reload compares: equal fingerprints mean "leave this instance alone". */
  fingerprint: string
  config: VrrpInstanceConfig
}

export interface HostFacts {
  /** First address of the family on an interface, or undefined when it has none. */
  primaryAddress(interfaceName: string, family: 4 | 6): string | undefined
}

export class InstanceSpecError extends Error {}

export function toInterfaceAddress(a: IpAddressConfig, fallbackDevice: string): InterfaceAddress {
  return {
    address: a.address,
    prefixLength: a.prefixLength,
    device: a.dev ?? fallbackDevice,
    ...(a.broadcast ? {broadcast: a.broadcast} : {}),
    ...(a.label ? {label: a.label} : {}),
    ...(a.scope ? {scope: a.scope} : {}),
  }
}

/** The words `ip route` takes for a virtual_routes/static_routes line. */
export function routeWords(r: RouteConfig): string[] {
  const words: string[] = []
  if (r.type && r.type !== 'unicast') words.push(r.type)
  words.push(r.destination)
  if (r.src) words.push('src', r.src)
  if (r.via) words.push('via', r.via)
  if (r.dev) words.push('dev', r.dev)
  if (r.table) words.push('table', r.table)
  if (r.metric !== undefined) words.push('metric', String(r.metric))
  if (r.scope) words.push('scope', r.scope)
  if (r.protocol) words.push('protocol', r.protocol)
  for (const nh of r.nexthops) {
    words.push('nexthop')
    if (nh.via) words.push('via', nh.via)
    if (nh.dev) words.push('dev', nh.dev)
    if (nh.weight !== undefined) words.push('weight', String(nh.weight))
  }
  return words
}

function msToCs(ms: number): number {
  return Math.round(ms / 10)
}

export function instanceSpec(inst: VrrpInstanceConfig, global: GlobalDefs, host: HostFacts): InstanceSpec {
  const interfaceName = inst.useVmac ? inst.useVmac.name ?? `vrrp.${inst.virtualRouterId}` : inst.interface ?? global.defaultInterface
  if (!interfaceName) throw new InstanceSpecError(`(${inst.name}) no interface`)
  // Adverts leave from the parent interface's address even with use_vmac (as keepalived does).
  const sourceInterface = inst.interface ?? interfaceName
  const family = inst.family
  const primaryAddress = inst.unicastSrcIp ?? inst.mcastSrcIp ?? host.primaryAddress(sourceInterface, family)
  if (!primaryAddress) {
    throw new InstanceSpecError(`(${inst.name}) interface ${sourceInterface} has no IPv${family} address to send adverts from`)
  }

  const addresses = new Map<string, InterfaceAddress>()
  const put = (list: IpAddressConfig[]): string[] =>
    list.map((a) => {
      addresses.set(a.address, toInterfaceAddress(a, interfaceName))
      return a.address
    })
  const advertised = put(inst.virtualIpAddresses)
  const excluded = put(inst.virtualIpAddressesExcluded)

  const routes = new Map<string, RouteSpec>()
  for (const r of inst.virtualRoutes) {
    const words = routeWords(r)
    routes.set(words.join(' '), {words})
  }

  const garpIntervalMs = family === 4 ? global.vrrpGarpIntervalMs : global.vrrpGnaIntervalMs
  const router: RouterConfig = {
    name: inst.name,
    vrid: inst.virtualRouterId,
    version: inst.version,
    family: family === 4 ? 'ipv4' : 'ipv6',
    priority: inst.priority,
    advertIntervalCs: msToCs(inst.advertIntervalMs),
    preempt: !inst.nopreempt,
    preemptDelayCs: msToCs(inst.preemptDelayMs),
    addresses: advertised,
    excludedAddresses: excluded,
    routes: [...routes.keys()],
    primaryAddress,
    unicastPeers: inst.unicastPeers.map((p) => p.address),
    auth: inst.authentication?.type === 'PASS' ? {type: 'pass', password: inst.authentication.password} : {type: 'none'},
    skipCheckAdvAddr: inst.skipCheckAdvAddr ?? global.vrrpSkipCheckAdvAddr,
    checkUnicastSource: inst.checkUnicastSrc ?? global.vrrpCheckUnicastSrc,
    lowerPrioNoAdvert: global.vrrpLowerPrioNoAdvert,
    garp: {
      masterDelayCs: msToCs(inst.garpMasterDelayMs),
      masterRepeat: inst.garpMasterRepeat,
      masterRefreshCs: msToCs(inst.garpMasterRefreshMs),
      masterRefreshRepeat: inst.garpMasterRefreshRepeat,
      intervalCs: msToCs(garpIntervalMs),
    },
  }
  // Source locations change when unrelated lines move; they must not count as a change.
  const fingerprint = JSON.stringify({router, interfaceName, addresses: [...addresses], routes: [...routes.keys()], inst}, (k, v) =>
    k === 'source' ? undefined : v,
  )
  // Unicast adverts to a peer are addressed to the peer's base interface, whose MAC is no vmac's:
  // the peer's macvlan driver hands them to that base interface, never to its vmac. So with
  // unicast peers they are sent and received on the base interface (keepalived sets
  // vmac_xmit_base itself in that case too; the parser warns).
  const xmitBase = inst.vmacXmitBase || inst.unicastPeers.length > 0
  const vmac: VmacSpec | undefined =
    inst.useVmac && inst.interface ? {name: interfaceName, parent: inst.interface, family, vrid: inst.virtualRouterId, xmitBase} : undefined
  if (inst.useVmac && !inst.interface) throw new InstanceSpecError(`(${inst.name}) use_vmac needs an interface to put the macvlan on`)
  const xmitInterface = vmac?.xmitBase ? vmac.parent : interfaceName
  return {name: inst.name, interfaceName, xmitInterface, ...(vmac ? {vmac} : {}), family, router, addresses, routes, fingerprint, config: inst}
}

export function instanceSpecs(config: KeepalivedConfig, host: HostFacts): InstanceSpec[] {
  return config.vrrpInstances.map((inst) => instanceSpec(inst, config.globalDefs, host))
}
