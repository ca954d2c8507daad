/**
 * What role a managed file plays for the plan's VRRP impact: the daemon's config (reload),
 * its unit or binary (restart), firewall rules (reload the rule set). Decided by name, since
 * the renderer owns the paths; kept in one place so a rename is one edit.
 */
export type FileRole = 'kaopsd-config' | 'kaopsd-unit' | 'firewall' | 'sysctl' | 'other'

export function fileRole(path: string): FileRole {
  const base = path.slice(path.lastIndexOf('/') + 1)
  if (path.startsWith('/etc/sysctl.d/') || /sysctl/.test(base)) return 'sysctl'
  if (base === 'keepalived.conf' || base === 'kaopsd.conf') return 'kaopsd-config'
  if (/^kaopsd.*\.service$/.test(base)) return 'kaopsd-unit'
  if (/\.nft$/.test(base) || /firewall|iptables|nftables/i.test(path)) return 'firewall'
  return 'other'
}

export function isKaopsdUnit(name: string): boolean {
  return /^kaopsd(@.*)?(\.service)?$/.test(name)
}
