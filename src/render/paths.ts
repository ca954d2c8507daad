/**
 * Every path kaops puts on a host, in one place: the renderer writes them, the state probe reads
 * them, the kaopsd unit points at them. Change a path here and everything follows.
 */

/** Releases live under /opt/kaops/releases/<id>; `current` points at the active one. */
export const KAOPS_ROOT = '/opt/kaops'
export const KAOPSD_BINARY_PATH = `${KAOPS_ROOT}/current/kaopsd`
/** The daemon's config: kaopsd reads it, keepalived could too. 0600: it holds the VRRP secret. */
export const KAOPSD_CONFIG_PATH = '/etc/kaopsd/keepalived.conf'
export const KAOPSD_LOG_PATH = '/var/log/kaopsd.log'
export const KAOPSD_UNIT = 'kaopsd.service'
export const KAOPSD_UNIT_PATH = `/etc/systemd/system/${KAOPSD_UNIT}`
/**
 * The hand-run daemon kaopsd replaces on a director: desired stopped and disabled, so the two
 * never answer for the same VRIDs side by side. Its own files (/etc/keepalived) are left as they are.
 */
export const REPLACED_DAEMON_UNIT = 'keepalived.service'

export const SYSCTL_PATH = '/etc/sysctl.d/90-kaops.conf'

export const LO_VIP_UNIT = 'kaops-lo-vip.service'
export const LO_VIP_UNIT_PATH = `/etc/systemd/system/${LO_VIP_UNIT}`

/** nftables and iptables rules are loaded at boot by this unit; firewalld loads its own file. */
export const FIREWALL_UNIT = 'kaops-vrrp-firewall.service'
export const FIREWALL_UNIT_PATH = `/etc/systemd/system/${FIREWALL_UNIT}`
export const NFT_TABLE = 'kaops_vrrp'
export const NFT_RULES_PATH = '/etc/nftables.d/kaops-vrrp.nft'
export const FIREWALLD_DIRECT_PATH = '/etc/firewalld/direct.xml'
export const IPTABLES_RULES_PATH = '/etc/iptables/kaops-vrrp.rules'
export const IP6TABLES_RULES_PATH = '/etc/iptables/kaops-vrrp.rules6'
export const IPTABLES_CHAIN_IN = 'KAOPS-VRRP-IN'
export const IPTABLES_CHAIN_OUT = 'KAOPS-VRRP-OUT'

/** The header every rendered file starts with (in the comment syntax of its format). */
export const MANAGED_HEADER = 'managed by kaops; edits are overwritten'
