import type { RouterStateName } from './router.js'

/**
 * vrrp_sync_group: members move together. Pure: given each member's state before and after
 * the last steps, say which members must be told to follow (the runtime feeds each decision
 * to that member as a { kind: 'sync' } event, then asks again until nothing is left to do).
 *
 * - a member in Fault for its own reason (interface, weight-0 tracker) puts the whole group in Fault;
 * - once no member has a reason of its own, those held in Fault by the group are released;
 * - one member becoming Master takes the others (in Backup) to Master;
 * - one member dropping from Master to Backup takes the other masters to Backup.
 */

export interface SyncMember {
  name: string
  before: RouterStateName
  after: RouterStateName
  /** In Fault (or would be) for a reason of its own, not because the group said so. */
  ownFault: boolean
}

export interface SyncDecision {
  member: string
  want: 'Master' | 'Backup' | 'Fault'
  reason: string
}

export function syncGroupDecisions(group: string, members: SyncMember[]): SyncDecision[] {
  const live = members.filter((m) => m.after !== 'Stopped' && m.after !== 'Initialize')
  const faulty = live.find((m) => m.ownFault)
  if (faulty) {
    return live
      .filter((m) => m.after !== 'Fault')
      .map((m) => ({ member: m.name, want: 'Fault' as const, reason: `sync group ${group}: ${faulty.name} is in FAULT` }))
  }
  const held = live.filter((m) => m.after === 'Fault')
  if (held.length > 0) {
    return held.map((m) => ({ member: m.name, want: 'Backup' as const, reason: `sync group ${group}: no member in FAULT` }))
  }
  const promoted = live.find((m) => m.after === 'Master' && m.before !== 'Master')
  if (promoted) {
    return live
      .filter((m) => m.after === 'Backup')
      .map((m) => ({ member: m.name, want: 'Master' as const, reason: `sync group ${group}: ${promoted.name} became MASTER` }))
  }
  const demoted = live.find((m) => m.before === 'Master' && m.after === 'Backup')
  if (demoted) {
    return live
      .filter((m) => m.after === 'Master')
      .map((m) => ({ member: m.name, want: 'Backup' as const, reason: `sync group ${group}: ${demoted.name} became BACKUP` }))
  }
  return []
}

/**
 * The instances an operator takeover must reach: the named ones and every other member of their
 * sync groups. A takeover of one member alone would be undone: the group would pull the others
 * to master at their configured priority, the peer's members would win them back, and the group
 * would follow them to backup. Named ones first, then the members they bring, without repeats.
 */
export function withSyncGroupMembers(names: readonly string[], groups: readonly { instances: readonly string[] }[]): string[] {
  const out: string[] = []
  const add = (n: string): void => {
    if (!out.includes(n)) out.push(n)
  }
  for (const n of names) add(n)
  for (const n of names) for (const g of groups) if (g.instances.includes(n)) for (const m of g.instances) add(m)
  return out
}
