/**
 * What a host looks like right now, as read by the state probe in one SSH round trip.
 * Pure data: the plan compares it against DesiredHost. Nothing here holds a secret on purpose
 * except file contents, which the plan redacts before showing them.
 */

export interface ActualFile {
  path: string
  exists: boolean
  /** Hex sha256 of the content; absent when the file does not exist. */
  sha256?: string
  /** Permission bits, e.g. 0o644. */
  mode?: number
  size?: number
  /** The content, when the file is small enough for the probe to send it (for diffs). */
  content?: string
}

export interface ActualSysctl {
  key: string
  /** Value in effect, whitespace collapsed to single spaces; undefined when the key does not exist. */
  value?: string
}

export type FirewallFlavour = 'nftables' | 'firewalld' | 'iptables' | 'none'

export interface ActualFirewall {
  /** Which tool's rules were found (the first that has kaops' VRRP rules, else what exists). */
  flavour: FirewallFlavour
  /** True when rules letting VRRP (protocol 112) through are in effect. */
  vrrpRulesPresent: boolean
  /** The rule listing as the tool prints it (nft table, firewalld direct rules, iptables -S lines). */
  rules: string
}

export interface ActualBinary {
  path: string
  exists: boolean
  sha256?: string
  /** First line of `kaopsd --version`. */
  version?: string
}

export interface ActualUnit {
  name: string
  /** `systemctl is-enabled` output: enabled, disabled, static, masked, not-found... */
  enabled: string
  /** `systemctl is-active` output: active, inactive, failed, activating... */
  active: string
}

export interface ActualAddress {
  /** Interface name, e.g. eth0 or lo. */
  ifname: string
  /** Address with prefix length, e.g. 198.18.0.100/24. */
  cidr: string
  family: 'inet' | 'inet6'
}

export interface ActualHost {
  name: string
  files: ActualFile[]
  sysctl: ActualSysctl[]
  firewall: ActualFirewall
  binary: ActualBinary
  units: ActualUnit[]
  addresses: ActualAddress[]
  /** Paths kaops recorded as managed on this host by a previous apply (for deletions). */
  managedPaths: string[]
  /** `kaopsd status --json` when the daemon is running; undefined otherwise. Volatile. */
  kaopsdStatus?: unknown
  /** Milliseconds the probe took, for the summary. Volatile. */
  probeMs?: number
}
