/**
 * The typed inventory (`apiVersion: kaops/v1`): what an operator writes, after schema validation
 * and defaults. schemas/inventory.schema.json is the same contract for editors; keep them in step.
 * Pure data, except that resolved secrets travel inside a SecretValue wrapper that refuses to be
 * printed or serialised.
 */

export const INVENTORY_API_VERSION = 'kaops/v1'

/** A secret reference: from the environment or a file outside the inventory. */
export interface SecretRef {
  env?: string
  file?: string
  /** Used when the variable or file is absent: for labs only. */
  default?: string
}

/**
 * A resolved secret. The value is reachable only through reveal(): JSON.stringify, util.inspect
 * and string conversion all show a placeholder, so a logged inventory never leaks it.
 */
export class SecretValue {
  readonly #value: string
  /** Where it came from ("env KAOPS_X", "file /run/x", "default"), safe to print. */
  readonly source: string
  constructor(value: string, source: string) {
    this.#value = value
    this.source = source
  }
  reveal(): string {
    return this.#value
  }
  toJSON(): string {
    return '[secret]'
  }
  toString(): string {
    return '[secret]'
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `[secret from ${this.source}]`
  }
}

export interface JumpHost {
  host: string
  port?: number
  user?: string
  identityFile?: string
}

export interface SshSettings {
  user?: string
  port?: number
  identityFile?: string
  agent?: boolean
  knownHosts?: string
  jumpHost?: JumpHost | string
  sudo?: boolean
  /** Connect here instead of the inventory address (e.g. a management address or DNS name). */
  host?: string
}

export type FirewallFlavour = 'auto' | 'nftables' | 'firewalld' | 'iptables' | 'none'

export interface Director {
  name: string
  /** Address with prefix on `interface`, e.g. 198.18.0.11/24. */
  address: string
  interface: string
  ssh?: SshSettings
  firewall?: FirewallFlavour
  /** Extra keepalived.conf lines appended at the end of this director's file (escape hatch). */
  raw?: string[]
}

export interface VipAddress {
  address: string
  brd?: string
  dev?: string
  label?: string
  scope?: string
}

export interface TrackScript {
  name?: string
  script: string
  interval?: number
  weight?: number
  fall?: number
  rise?: number
  timeout?: number
  user?: string
}

export interface NotifyHooks {
  master?: string
  backup?: string
  fault?: string
  stop?: string
  /** Called with INSTANCE|GROUP, name, state, priority. */
  notify?: string
}

export interface Vip {
  name: string
  vrid: number
  /** Normalised: strings become {address}. */
  addresses: VipAddress[]
  /** Defaults to each director's interface. */
  interface?: string
  advertInterval: number
  version: 2 | 3
  authentication?: {type: 'PASS' | 'AH'; secret: SecretRef}
  priorities?: Record<string, number>
  /** Ordered list of directors, first is master; priorities derived (see vipPriorities). */
  directors?: string[]
  preempt: boolean
  preemptDelay?: number
  unicast: boolean
  trackScripts: TrackScript[]
  trackInterfaces: string[]
  syncGroup?: string
  notify?: NotifyHooks
  smtpAlert: boolean
  garpMasterDelay?: number
  /** Extra lines inside this vrrp_instance block (escape hatch). */
  raw?: string[]
}

export interface SyncGroup {
  name: string
  notify?: NotifyHooks
  smtpAlert?: boolean
}

export type HealthCheckType = 'HTTP_GET' | 'SSL_GET' | 'TCP_CHECK' | 'SMTP_CHECK' | 'MISC_CHECK'

export interface HealthCheck {
  type: HealthCheckType
  path?: string
  statusCode?: number
  digest?: string
  virtualhost?: string
  connectPort?: number
  connectTimeout?: number
  retry?: number
  delayBeforeRetry?: number
  /** MISC_CHECK */
  script?: string
  timeout?: number
  dynamic?: boolean
  /** SMTP_CHECK */
  helo?: string
}

export interface ServiceRealServer {
  name: string
  port?: number
  weight: number
  inhibitOnFailure?: boolean
  notifyUp?: string
  notifyDown?: string
  healthCheck?: HealthCheck
}

export interface Service {
  name: string
  vip?: string
  /** Defaults to the VIP's first address. */
  address?: string
  port: number
  protocol: 'TCP' | 'UDP'
  scheduler: 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'sh' | 'dh'
  forwarding: 'NAT' | 'DR' | 'TUN'
  delayLoop?: number
  persistence?: {timeout: number; granularity?: string}
  healthCheck?: HealthCheck
  sorryServer?: {address: string; port?: number}
  quorum?: number
  hysteresis?: number
  quorumUp?: string
  quorumDown?: string
  realServers: ServiceRealServer[]
  raw?: string[]
}

export interface RealServer {
  name: string
  address: string
  /** Whether kaops prepares this host over SSH (sysctl, loopback VIP). */
  prepare: boolean
  ssh?: SshSettings
}

export interface Probe {
  name: string
  address: string
}

export interface Notifications {
  emails: string[]
  from?: string
  smtpServer?: string
  smtpConnectTimeout?: number
}

export interface HostSetup {
  firewall: FirewallFlavour
  /** ip_nonlocal_bind on directors: auto = when a VIP has no LVS service (nginx/haproxy bind it). */
  nonlocalBind: 'auto' | boolean
  /** Extra sysctl for directors. */
  sysctl: Record<string, string | number>
  /** Extra sysctl for prepared real servers. */
  realServerSysctl: Record<string, string | number>
}

export interface KaopsdSettings {
  /** Local path of the kaopsd executable apply ships (default: dist/kaopsd). */
  binary?: string
  version?: string
  /** Releases kept on each host for rollback. */
  keepReleases: number
  /** Extra daemon options (e.g. -D, -S 3). */
  options: string[]
}

export interface KeepalivedGlobals {
  scriptUser?: string
  enableScriptSecurity?: boolean
  /** Extra global_defs lines (escape hatch). */
  globalDefs?: string[]
}

export interface InventoryDoc {
  apiVersion: typeof INVENTORY_API_VERSION
  kind: 'Inventory'
  metadata: {name: string; description?: string}
  ssh: SshSettings
  directors: Director[]
  vips: Vip[]
  syncGroups: SyncGroup[]
  services: Service[]
  realServers: RealServer[]
  probes: Probe[]
  notifications?: Notifications
  hostSetup: HostSetup
  kaopsd: KaopsdSettings
  keepalived: KeepalivedGlobals
  /** Lab-only settings, read by src/lab; opaque here. */
  lab?: unknown
}

/** A loaded inventory: the document plus its source and the VIP secrets resolved. */
export interface Inventory extends InventoryDoc {
  /** Path the inventory was read from, as given. */
  sourcePath: string
  /** VIP name -> resolved authentication secret. */
  secrets: Record<string, SecretValue>
}
