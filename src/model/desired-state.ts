/**
 * What a host should look like, computed from an inventory (render) and compared against what
 * it does look like (remote state) to make a plan. Pure data: no I/O, no oclif, no ssh2.
 */

export type HostRole = 'director' | 'real-server' | 'probe'

export interface SshTarget {
  /** Inventory name of the host, used in every message. */
  name: string
  host: string
  port: number
  user: string
  identityFile?: string
  /** Use the SSH agent at $SSH_AUTH_SOCK instead of (or besides) identityFile. */
  agent?: boolean
  knownHosts: string
  jumpHost?: SshTarget
  /** Run privileged commands through sudo when user is not root. */
  sudo: boolean
}

export interface ManagedFile {
  /** Absolute path on the host. */
  path: string
  content: string
  /** Octal permission bits, e.g. 0o644. */
  mode: number
  /** Literal secret values this file contains; they are redacted from every diff and log. */
  secrets?: string[]
}

export interface SysctlSetting {
  key: string
  value: string
}

export interface UnitState {
  name: string
  enabled: boolean
  active: boolean
}

export interface DesiredVip {
  instance: string
  vrid: number
  addresses: string[]
  /** The director that should hold it when every one is healthy. */
  expectedMaster: string
}

export interface DesiredHost {
  name: string
  address: string
  roles: HostRole[]
  ssh: SshTarget
  /** Sorted by path; rendering is deterministic. */
  files: ManagedFile[]
  sysctl: SysctlSetting[]
  units: UnitState[]
  /** Addresses (CIDR) that belong on `lo` (DR real servers). */
  loopbackVips: string[]
  /** Directors only: the VRRP instances this host takes part in. */
  vips: DesiredVip[]
}
