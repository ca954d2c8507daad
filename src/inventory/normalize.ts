import type {HealthCheck, InventoryDoc, Service, Vip, VipAddress} from '../model/inventory.js'

/**
 * Schema-valid plain data -> InventoryDoc with every default filled in. Runs only after the
 * schema passed, so shapes are trusted here; meaning is checked by semantic-check.ts.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = any

export const DEFAULTS = {
  sshUser: 'root',
  sshPort: 22,
  knownHosts: '~/.ssh/known_hosts',
  advertInterval: 1,
  version: 2 as const,
  protocol: 'TCP' as const,
  scheduler: 'wlc' as const,
  forwarding: 'NAT' as const,
  weight: 1,
  keepReleases: 5,
}

function vipAddress(a: Raw): VipAddress {
  return typeof a === 'string' ? {address: a} : {...a}
}

function vip(v: Raw): Vip {
  const out: Vip = {
    name: v.name,
    vrid: v.vrid,
    addresses: (v.addresses as Raw[]).map(vipAddress),
    advertInterval: v.advertInterval ?? DEFAULTS.advertInterval,
    version: v.version ?? DEFAULTS.version,
    preempt: v.nopreempt === true ? false : (v.preempt ?? true),
    unicast: v.unicast ?? false,
    trackScripts: v.trackScripts ?? [],
    trackInterfaces: v.trackInterfaces ?? [],
    smtpAlert: v.smtpAlert ?? false,
  }
  for (const k of ['interface', 'authentication', 'priorities', 'directors', 'preemptDelay', 'syncGroup', 'notify', 'garpMasterDelay', 'raw'] as const) {
    if (v[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = v[k]
  }
  return out
}

function service(s: Raw): Service {
  return {
    ...s,
    protocol: s.protocol ?? DEFAULTS.protocol,
    scheduler: s.scheduler ?? DEFAULTS.scheduler,
    forwarding: s.forwarding ?? DEFAULTS.forwarding,
    healthCheck: s.healthCheck as HealthCheck | undefined,
    realServers: (s.realServers as Raw[]).map((r) => ({...r, weight: r.weight ?? DEFAULTS.weight})),
  }
}

export function normalizeInventory(raw: Raw): InventoryDoc {
  const doc: InventoryDoc = {
    apiVersion: raw.apiVersion,
    kind: 'Inventory',
    metadata: raw.metadata ?? {name: 'inventory'},
    ssh: {user: DEFAULTS.sshUser, port: DEFAULTS.sshPort, knownHosts: DEFAULTS.knownHosts, ...raw.ssh},
    directors: raw.directors,
    vips: (raw.vips ?? []).map(vip),
    syncGroups: raw.syncGroups ?? [],
    services: (raw.services ?? []).map(service),
    realServers: (raw.realServers ?? []).map((r: Raw) => ({...r, prepare: r.prepare ?? true})),
    probes: raw.probes ?? [],
    hostSetup: {
      firewall: raw.hostSetup?.firewall ?? 'auto',
      nonlocalBind: raw.hostSetup?.nonlocalBind ?? 'auto',
      sysctl: raw.hostSetup?.sysctl ?? {},
      realServerSysctl: raw.hostSetup?.realServerSysctl ?? {},
    },
    kaopsd: {keepReleases: DEFAULTS.keepReleases, options: [], ...raw.kaopsd},
    keepalived: raw.keepalived ?? {},
  }
  if (raw.notifications !== undefined) doc.notifications = {emails: [], ...raw.notifications}
  if (raw.lab !== undefined) doc.lab = raw.lab
  return doc
}
