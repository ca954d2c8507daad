/**
 * The typed model of a keepalived.conf, as kaopsd understands it.
 *
 * Pure data: the parser in src/daemon/config builds it, the daemon (VRRP, checkers, LVS,
 * notifications) and the CLI (import of an existing keepalived.conf, rendering) read it.
 * Nothing here touches the host. Every block keeps where it came from (`source`) so later
 * messages can name file:line.
 *
 * Units: every duration is an integer number of MILLISECONDS in a field ending in `Ms`
 * (keepalived's <TIMER> values are seconds with a fraction; 0.01 s is 10 ms). The only
 * exceptions are IPVS's own units, named for them: `persistenceTimeoutSec`.
 * Defaults are the values keepalived 2.2 applies when a keyword is absent.
 */

export interface SourceLocation {
  file: string
  line: number
}

export type AddressFamily = 4 | 6

/** A command line from the config (notify_*, script, misc_path, quorum_up ...). */
export interface ScriptCommand {
  /** The command as written (after quote removal), e.g. `/usr/local/bin/vrrp.sh MASTER VI_1`. */
  command: string
  /** The command split into arguments: whitespace separates, single quotes group. */
  argv: string[]
  /** `user [group]` written after the command (notify_up, quorum_up ... allow it). */
  user?: ScriptUser
  source: SourceLocation
}

export interface ScriptUser {
  user: string
  group?: string
}

/** A notify FIFO: keepalived writes one line per transition into it; `script` reads it. */
export interface NotifyFifoConfig {
  path: string
  user?: ScriptUser
  script?: ScriptCommand
}

export type LvsBackend = 'auto' | 'ipvs' | 'nftables'

export interface GlobalDefs {
  notificationEmail: string[]
  /** Default keepalived@<hostname>; undefined here means "use that default". */
  notificationEmailFrom?: string
  smtpServer?: {host: string; port: number}
  smtpHeloName?: string
  /** smtp_connect_timeout, default 30 s. */
  smtpConnectTimeoutMs: number
  /** Global smtp_alert / smtp_alert_vrrp / smtp_alert_checker when given. */
  smtpAlert?: boolean
  smtpAlertVrrp?: boolean
  smtpAlertChecker?: boolean
  /** Default: the local host name; undefined here means "use that default". */
  routerId?: string
  defaultInterface?: string
  vrrpSkipCheckAdvAddr: boolean
  vrrpStrict: boolean
  /** vrrp_iptables [INPUT_CHAIN [OUTPUT_CHAIN]]; undefined when absent. */
  vrrpIptables?: {inputChain?: string; outputChain?: string}
  vrrpMcastGroup4: string
  vrrpMcastGroup6: string
  /** vrrp_garp_interval: delay between gratuitous ARPs of one burst; default 0. */
  vrrpGarpIntervalMs: number
  /** vrrp_gna_interval: delay between unsolicited NAs of one burst; default 0. */
  vrrpGnaIntervalMs: number
  /** Global defaults that instances inherit. */
  vrrpGarpMasterDelayMs: number
  vrrpGarpMasterRepeat: number
  vrrpGarpMasterRefreshMs: number
  vrrpGarpMasterRefreshRepeat: number
  vrrpGarpLowerPrioDelayMs?: number
  vrrpGarpLowerPrioRepeat?: number
  vrrpLowerPrioNoAdvert: boolean
  vrrpHigherPrioSendAdvert: boolean
  vrrpVersion: 2 | 3
  vrrpPriority?: number
  vrrpCheckUnicastSrc: boolean
  scriptUser?: ScriptUser
  enableScriptSecurity: boolean
  /** Present so the config test can decline it; kaopsd has no SNMP. */
  enableTraps: boolean
  notifyFifo?: NotifyFifoConfig
  vrrpNotifyFifo?: NotifyFifoConfig
  lvsNotifyFifo?: NotifyFifoConfig
  /** kaopsd extension: which load-balancing data plane to program. Default auto. */
  lvsBackend: LvsBackend
  /** kaopsd extension: Prometheus metrics endpoint; off when undefined. */
  metricsListen?: {host: string; port: number}
  source?: SourceLocation
}

/** One address line of virtual_ipaddress / static_ipaddress. */
export interface IpAddressConfig {
  /** The address without prefix, e.g. 192.168.200.16 or fe80::1. */
  address: string
  family: AddressFamily
  /** /prefix; keepalived's default is /32 (IPv4) or /128 (IPv6). */
  prefixLength: number
  broadcast?: string
  peer?: string
  dev?: string
  label?: string
  scope?: string
  /** Raw flags that need no value (home, nodad, noprefixroute ...). */
  flags: string[]
  source: SourceLocation
}

export interface NexthopConfig {
  via?: string
  dev?: string
  weight?: number
}

/** One line of virtual_routes / static_routes. */
export interface RouteConfig {
  /** unicast unless the line starts with blackhole|unreachable|prohibit|... */
  type: string
  /** Destination as written with prefix (default route: 0.0.0.0/0). */
  destination: string
  family: AddressFamily
  src?: string
  via?: string
  dev?: string
  table?: string
  metric?: number
  scope?: string
  protocol?: string
  /** Multipath: nexthop/`or` alternatives. */
  nexthops: NexthopConfig[]
  source: SourceLocation
}

/** One line of virtual_rules / static_rules. */
export interface RuleConfig {
  from?: string
  to?: string
  table?: string
  priority?: number
  fwmark?: string
  iif?: string
  oif?: string
  family: AddressFamily
  source: SourceLocation
}

export interface VrrpScriptConfig {
  name: string
  script?: ScriptCommand
  /** interval, default 1 s. */
  intervalMs: number
  /** timeout; keepalived defaults it to the interval. */
  timeoutMs: number
  /** -253..253, default 0 (0 means a failure puts the instance in FAULT). */
  weight: number
  weightReverse: boolean
  rise: number
  fall: number
  user?: ScriptUser
  initFail: boolean
  source: SourceLocation
}

export interface VrrpTrackFileConfig {
  name: string
  file: string
  /** Default 1. */
  weight: number
  weightReverse: boolean
  initFile?: {value: number; overwrite: boolean}
  source: SourceLocation
}

export interface TrackRef {
  name: string
  /** Override of the tracked object's weight; undefined means use its own. */
  weight?: number
  reverse: boolean
  source: SourceLocation
}

export interface TrackInterfaceConfig {
  name: string
  /** Default 0: the instance goes to FAULT when the interface is down. */
  weight: number
  reverse: boolean
  source: SourceLocation
}

interface NotifyScripts {
  notifyMaster?: ScriptCommand
  notifyBackup?: ScriptCommand
  notifyFault?: ScriptCommand
  notifyStop?: ScriptCommand
  /** Called with "INSTANCE"|"GROUP", name, state, priority appended. */
  notify?: ScriptCommand
  notifyMasterRxLowerPri?: ScriptCommand
}

export interface VrrpSyncGroupConfig extends NotifyScripts {
  name: string
  instances: string[]
  smtpAlert?: boolean
  notifyFifo?: NotifyFifoConfig
  trackScripts: TrackRef[]
  trackFiles: TrackRef[]
  trackInterfaces: TrackInterfaceConfig[]
  source: SourceLocation
}

export type VrrpState = 'MASTER' | 'BACKUP'

export interface VrrpAuthentication {
  type: 'PASS' | 'AH'
  /** auth_pass; VRRPv2 PASS uses the first 8 characters. */
  password: string
}

export interface UnicastPeerConfig {
  address: string
  minTtl?: number
  maxTtl?: number
  source: SourceLocation
}

export interface VrrpInstanceConfig extends NotifyScripts {
  name: string
  /** Initial state; default BACKUP. */
  state: VrrpState
  /** true when `state` was written (keepalived warns on AH + MASTER etc.). */
  stateGiven: boolean
  interface?: string
  /** use_vmac [NAME]; undefined when not used. name defaults to vrrp.<VRID>. */
  useVmac?: {name?: string}
  vmacXmitBase: boolean
  dontTrackPrimary: boolean
  trackInterfaces: TrackInterfaceConfig[]
  trackScripts: TrackRef[]
  trackFiles: TrackRef[]
  mcastSrcIp?: string
  unicastSrcIp?: string
  unicastPeers: UnicastPeerConfig[]
  lvsSyncDaemonInterface?: string
  garpMasterDelayMs: number
  garpMasterRepeat: number
  garpMasterRefreshMs: number
  garpMasterRefreshRepeat: number
  /** 1..255; 0 when missing (a config error). */
  virtualRouterId: number
  /** 1..255, default 100. */
  priority: number
  /** advert_int in ms (default 1000; v2 is whole seconds, v3 allows 10 ms steps). */
  advertIntervalMs: number
  /** From `version`, else global vrrp_version, else 2 (3 for IPv6 instances). */
  version: 2 | 3
  authentication?: VrrpAuthentication
  virtualIpAddresses: IpAddressConfig[]
  virtualIpAddressesExcluded: IpAddressConfig[]
  virtualRoutes: RouteConfig[]
  virtualRules: RuleConfig[]
  /** IPv4 unless the VIPs are IPv6 (native_ipv6 forces 6). */
  family: AddressFamily
  /** Preemption is on unless `nopreempt`. */
  nopreempt: boolean
  preemptDelayMs: number
  /** debug [LEVEL], default 0. */
  debug: number
  accept?: boolean
  strictMode?: boolean
  skipCheckAdvAddr?: boolean
  checkUnicastSrc?: boolean
  smtpAlert?: boolean
  notifyFifo?: NotifyFifoConfig
  source: SourceLocation
}

export type LbAlgo = 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'lblcr' | 'sh' | 'dh' | 'sed' | 'nq'
export type LbKind = 'NAT' | 'DR' | 'TUN'
export type LvsProtocol = 'TCP' | 'UDP' | 'SCTP'

export type VirtualServerGroupEntry =
  | {
      kind: 'address'
      /** First address of the range. */
      address: string
      family: AddressFamily
      /** `192.168.200.3-10`: last value of the final octet (IPv4) or hextet (IPv6). */
      rangeEnd?: number
      port: number
      source: SourceLocation
    }
  | {kind: 'fwmark'; fwmark: number; source: SourceLocation}

export interface VirtualServerGroupConfig {
  name: string
  entries: VirtualServerGroupEntry[]
  source: SourceLocation
}

export type VirtualServerTarget =
  | {kind: 'address'; address: string; family: AddressFamily; port: number}
  | {kind: 'fwmark'; fwmark: number}
  | {kind: 'group'; group: string}

export interface HttpUrlConfig {
  path: string
  /** MD5 hex digest of the body, lower case. */
  digest?: string
  /** Accepted status ranges, inclusive; default [[200, 299]]. */
  statusCodes: Array<[number, number]>
  virtualhost?: string
  /** Searched for in the body (JavaScript syntax; kaopsd -t has checked it compiles). */
  regex?: string
  regexNoMatch: boolean
  /** regex_options words (PCRE2 option names), as written. */
  regexOptions?: string[]
  /** regex_min_offset / regex_max_offset, bytes into the body. */
  regexMinOffset?: number
  regexMaxOffset?: number
  source: SourceLocation
}

/** What every checker (but MISC_CHECK) shares; resolved defaults included. */
export interface CheckerCommon {
  connectIp?: string
  connectPort?: number
  bindTo?: string
  bindPort?: number
  bindIf?: string
  fwmark?: number
  /** Default 5 s. */
  connectTimeoutMs: number
  /** Extra attempts after a failure before the server is down (nb_get_retry is the old name). */
  retry: number
  /** Default 3 s for HTTP_GET/SSL_GET, delay_loop for DNS_CHECK, else 1 s. */
  delayBeforeRetryMs: number
  /** Random initial delay cap; undefined means keepalived's default (delay_loop). */
  warmupMs?: number
  /** Per-checker delay_loop; undefined means the real/virtual server's. */
  delayLoopMs?: number
  alpha?: boolean
  logAllFailures?: boolean
  source: SourceLocation
}

export interface TcpCheckConfig extends CheckerCommon {
  type: 'TCP_CHECK'
}

export interface HttpCheckConfig extends CheckerCommon {
  type: 'HTTP_GET' | 'SSL_GET'
  urls: HttpUrlConfig[]
  virtualhost?: string
  httpProtocol?: string
  enableSni: boolean
  fastRecovery: boolean
}

export interface SmtpHostConfig {
  connectIp?: string
  connectPort?: number
  bindTo?: string
  bindPort?: number
  bindIf?: string
  connectTimeoutMs?: number
  source: SourceLocation
}

export interface SmtpCheckConfig extends CheckerCommon {
  type: 'SMTP_CHECK'
  heloName?: string
  /** Legacy `host { }` sub-blocks: each is checked as well. */
  hosts: SmtpHostConfig[]
}

export interface DnsCheckConfig extends CheckerCommon {
  type: 'DNS_CHECK'
  /** Default SOA. */
  queryType: 'A' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'AAAA'
  /** Default ".". */
  name: string
}

export interface UdpCheckConfig extends CheckerCommon {
  type: 'UDP_CHECK'
  /** Hex payload (spaces removed); random when undefined. */
  payload?: string
  /** undefined: no reply needed; '' : any reply; else hex pattern (x = don't care nibble). */
  requireReply?: string
  minReplyLength: number
  maxReplyLength: number
}

export interface PingCheckConfig extends CheckerCommon {
  type: 'PING_CHECK'
}

export interface MiscCheckConfig {
  type: 'MISC_CHECK'
  miscPath?: ScriptCommand
  /** misc_timeout; undefined means keepalived's default (delay_loop). */
  miscTimeoutMs?: number
  miscDynamic: boolean
  user?: ScriptUser
  /** Default 0 for MISC_CHECK. */
  retry: number
  delayBeforeRetryMs: number
  warmupMs?: number
  delayLoopMs?: number
  alpha?: boolean
  source: SourceLocation
}

export type CheckerConfig =
  | TcpCheckConfig
  | HttpCheckConfig
  | SmtpCheckConfig
  | DnsCheckConfig
  | UdpCheckConfig
  | PingCheckConfig
  | MiscCheckConfig

export type CheckerType = CheckerConfig['type']

export interface RealServerConfig {
  address: string
  family: AddressFamily
  /** Undefined for fwmark services written without a port. */
  port?: number
  /** Default 1. */
  weight: number
  lbKind?: LbKind
  inhibitOnFailure: boolean
  notifyUp?: ScriptCommand
  notifyDown?: ScriptCommand
  smtpAlert?: boolean
  virtualhost?: string
  alpha?: boolean
  connectTimeoutMs?: number
  retry?: number
  delayBeforeRetryMs?: number
  warmupMs?: number
  delayLoopMs?: number
  uthreshold?: number
  lthreshold?: number
  checkers: CheckerConfig[]
  source: SourceLocation
}

export interface SorryServerConfig {
  address: string
  family: AddressFamily
  port?: number
  inhibit: boolean
  lbKind?: LbKind
}

export interface VirtualServerConfig {
  target: VirtualServerTarget
  /** delay_loop, default 60 s. */
  delayLoopMs: number
  /** Default wlc (keepalived reports a missing lb_algo). */
  lbAlgo: LbAlgo
  /** lb_kind / lvs_method, default NAT. */
  lbKind: LbKind
  /** Seconds, as IPVS takes it; undefined means no persistence. */
  persistenceTimeoutSec?: number
  persistenceGranularity?: string
  /** keepalived 2.2.7 defaults a missing protocol to UDP (and reports it). */
  protocol: LvsProtocol
  haSuspend: boolean
  virtualhost?: string
  alpha: boolean
  omega: boolean
  /** Default 1. */
  quorum: number
  /** Default 0. */
  hysteresis: number
  quorumUp?: ScriptCommand
  quorumDown?: ScriptCommand
  sorryServer?: SorryServerConfig
  smtpAlert?: boolean
  inhibitOnFailure: boolean
  /** Virtual-server-level checker defaults. */
  connectTimeoutMs?: number
  retry?: number
  delayBeforeRetryMs?: number
  warmupMs?: number
  ipFamily?: AddressFamily
  realServers: RealServerConfig[]
  source: SourceLocation
}

export interface KeepalivedConfig {
  globalDefs: GlobalDefs
  staticIpAddresses: IpAddressConfig[]
  staticRoutes: RouteConfig[]
  staticRules: RuleConfig[]
  vrrpScripts: VrrpScriptConfig[]
  vrrpTrackFiles: VrrpTrackFileConfig[]
  vrrpSyncGroups: VrrpSyncGroupConfig[]
  vrrpInstances: VrrpInstanceConfig[]
  virtualServerGroups: VirtualServerGroupConfig[]
  virtualServers: VirtualServerConfig[]
  /** Every file read, in order (the main file first, then includes). */
  files: string[]
}

export interface Diagnostic {
  severity: 'error' | 'warning'
  file: string
  /** 0 when the message is about the configuration as a whole. */
  line: number
  message: string
}

/** The defaults of global_defs, so code that builds a config by hand starts right. */
export function defaultGlobalDefs(): GlobalDefs {
  return {
    notificationEmail: [],
    smtpConnectTimeoutMs: 30_000,
    vrrpSkipCheckAdvAddr: false,
    vrrpStrict: false,
    vrrpMcastGroup4: '224.0.0.18',
    vrrpMcastGroup6: 'ff02::12',
    vrrpGarpIntervalMs: 0,
    vrrpGnaIntervalMs: 0,
    vrrpGarpMasterDelayMs: 5000,
    vrrpGarpMasterRepeat: 5,
    vrrpGarpMasterRefreshMs: 0,
    vrrpGarpMasterRefreshRepeat: 1,
    vrrpLowerPrioNoAdvert: false,
    vrrpHigherPrioSendAdvert: false,
    vrrpVersion: 2,
    vrrpCheckUnicastSrc: false,
    enableScriptSecurity: false,
    enableTraps: false,
    lvsBackend: 'auto',
  }
}

export function emptyKeepalivedConfig(): KeepalivedConfig {
  return {
    globalDefs: defaultGlobalDefs(),
    staticIpAddresses: [],
    staticRoutes: [],
    staticRules: [],
    vrrpScripts: [],
    vrrpTrackFiles: [],
    vrrpSyncGroups: [],
    vrrpInstances: [],
    virtualServerGroups: [],
    virtualServers: [],
    files: [],
  }
}
