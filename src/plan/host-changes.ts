/**
 * Resource changes for ONE host: desired against actual, pure. Order is stable (files by path,
 * then sysctl, firewall, binary, units, loopback VIPs) so plans diff well in review.
 */
import {createHash} from 'node:crypto'
import type {DesiredHost} from '../model/desired-state.js'
import type {ActualHost} from '../model/actual-state.js'
import type {ResourceChange} from '../model/plan.js'
import {fileRole, isKaopsdUnit} from './classify.js'
import {fileDiff} from './file-diff.js'
import {secretLineTemplates} from './redact.js'

export interface KaopsdArtifact {
  sha256: string
  version?: string
}

export interface HostChangeOptions {
  /** The kaopsd executable apply would ship; without it only its presence is planned. */
  kaopsd?: KaopsdArtifact
  /** Every VIP address (no prefix) in the inventory: a lo address among them that this host
   * should not have is planned for deletion; any other lo address is not ours to touch. */
  inventoryVipAddresses: Set<string>
}

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')
const modeStr = (m: number | undefined) => (m === undefined ? undefined : m.toString(8).padStart(4, '0'))
const ipOf = (cidr: string) => cidr.split('/')[0]!

function fileChanges(d: DesiredHost, a: ActualHost): ResourceChange[] {
  const secretValues = d.files.flatMap((f) => f.secrets ?? [])
  const secrets = {secrets: secretValues, templates: secretLineTemplates(d.files.map((f) => f.content), secretValues)}
  const byPath = new Map(a.files.map((f) => [f.path, f]))
  const out: ResourceChange[] = []
  const desiredPaths = new Set(d.files.map((f) => f.path))
  for (const f of d.files) {
    const af = byPath.get(f.path)
    const after = {sha256: sha(f.content), mode: modeStr(f.mode), size: Buffer.byteLength(f.content)}
    if (!af || !af.exists) {
      const {diff} = fileDiff(f.path, null, f.content, secrets)
      out.push({kind: 'file', id: f.path, action: 'create', before: null, after, diff, reason: 'file does not exist'})
      continue
    }
    const before = {sha256: af.sha256, mode: modeStr(af.mode), size: af.size}
    if (af.sha256 === after.sha256) {
      if (af.mode === f.mode) out.push({kind: 'file', id: f.path, action: 'no-op', before, after})
      else out.push({kind: 'file', id: f.path, action: 'update', before, after, reason: `mode ${before.mode} -> ${after.mode}`})
      continue
    }
    const change: ResourceChange = {kind: 'file', id: f.path, action: 'update', before, after, reason: 'content differs'}
    if (af.content === undefined) change.reason = 'content differs (too large to show a diff)'
    else {
      const {diff, secretsOnly} = fileDiff(f.path, af.content, f.content, secrets)
      change.diff = diff
      if (secretsOnly) change.reason = 'only secret values differ (redacted)'
    }
    if (af.mode !== f.mode) change.reason += `; mode ${before.mode} -> ${after.mode}`
    out.push(change)
  }
  for (const af of a.files) {
    if (desiredPaths.has(af.path) || !af.exists || !a.managedPaths.includes(af.path)) continue
    const change: ResourceChange = {
      kind: 'file',
      id: af.path,
      action: 'delete',
      before: {sha256: af.sha256, mode: modeStr(af.mode), size: af.size},
      after: null,
      reason: 'managed by kaops, no longer in the inventory',
    }
    if (af.content !== undefined) change.diff = fileDiff(af.path, af.content, null, secrets).diff
    out.push(change)
  }
  return out.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
}

function sysctlChanges(d: DesiredHost, a: ActualHost): ResourceChange[] {
  const norm = (v: string) => v.trim().replace(/\s+/g, ' ')
  // "create" while kaops has not yet persisted its settings here (no drop-in on the host);
  // once it has, a differing value is drift: "update".
  const dropIns = d.files.filter((f) => fileRole(f.path) === 'sysctl').map((f) => f.path)
  const managedBefore = a.files.some((f) => f.exists && dropIns.includes(f.path))
  return d.sysctl.map((s): ResourceChange => {
    const now = a.sysctl.find((x) => x.key === s.key)?.value
    const after = {value: norm(s.value)}
    if (now === undefined) return {kind: 'sysctl', id: s.key, action: 'create', before: null, after, reason: 'key not present in this kernel (module not loaded?)'}
    if (norm(now) === after.value) return {kind: 'sysctl', id: s.key, action: 'no-op', before: {value: now}, after}
    return {kind: 'sysctl', id: s.key, action: managedBefore ? 'update' : 'create', before: {value: now}, after, reason: `${now} -> ${after.value}`}
  })
}

function firewallChanges(d: DesiredHost, a: ActualHost, files: ResourceChange[]): ResourceChange[] {
  const ruleFiles = files.filter((c) => fileRole(c.id) === 'firewall' && c.action !== 'delete')
  if (ruleFiles.length === 0 && !d.roles.includes('director')) return []
  const before = {flavour: a.firewall.flavour, vrrp_rules_present: a.firewall.vrrpRulesPresent, rules: a.firewall.rules.split('\n').filter(Boolean).length}
  const after = {vrrp_rules_present: true, source: ruleFiles.map((c) => c.id)}
  if (!a.firewall.vrrpRulesPresent) {
    return [{kind: 'firewall', id: 'vrrp', action: 'create', before, after, reason: 'no rules letting VRRP (protocol 112) through are in effect'}]
  }
  const changed = ruleFiles.filter((c) => c.action !== 'no-op')
  if (changed.length > 0) {
    return [{kind: 'firewall', id: 'vrrp', action: 'update', before, after, reason: `rule file changed: ${changed.map((c) => c.id).join(', ')}`}]
  }
  return [{kind: 'firewall', id: 'vrrp', action: 'no-op', before, after}]
}

function binaryChanges(d: DesiredHost, a: ActualHost, kaopsd: KaopsdArtifact | undefined): ResourceChange[] {
  if (!d.roles.includes('director')) return []
  const before = a.binary.exists ? {sha256: a.binary.sha256, version: a.binary.version} : null
  const after = kaopsd ? {sha256: kaopsd.sha256, version: kaopsd.version} : {sha256: a.binary.sha256}
  if (!a.binary.exists) return [{kind: 'binary', id: 'kaopsd', action: 'create', before, after, reason: `${a.binary.path} does not exist`}]
  if (kaopsd && kaopsd.sha256 !== a.binary.sha256) {
    return [{kind: 'binary', id: 'kaopsd', action: 'update', before, after, reason: `${a.binary.version ?? 'unknown version'} -> ${kaopsd.version ?? kaopsd.sha256.slice(0, 12)}`}]
  }
  return [{kind: 'binary', id: 'kaopsd', action: 'no-op', before, after}]
}

function unitChanges(d: DesiredHost, a: ActualHost): ResourceChange[] {
  return d.units.map((u): ResourceChange => {
    const now = a.units.find((x) => x.name === u.name) ?? {name: u.name, enabled: 'unknown', active: 'unknown'}
    const before = {enabled: now.enabled, active: now.active}
    const after = {enabled: u.enabled ? 'enabled' : 'disabled', active: u.active ? 'active' : 'inactive'}
    const enabledOk = u.enabled ? now.enabled === 'enabled' : now.enabled !== 'enabled'
    const activeOk = u.active ? now.active === 'active' : now.active !== 'active'
    if (enabledOk && activeOk) return {kind: 'unit', id: u.name, action: 'no-op', before, after}
    const why = [enabledOk ? '' : `${now.enabled} -> ${after.enabled}`, activeOk ? '' : `${now.active} -> ${after.active}`].filter(Boolean).join(', ')
    const action = now.enabled === 'not-found' ? 'create' : 'update'
    return {kind: 'unit', id: u.name, action, before: action === 'create' ? null : before, after, reason: why}
  })
}

function loopbackChanges(d: DesiredHost, a: ActualHost, vipAddrs: Set<string>): ResourceChange[] {
  const onLo = a.addresses.filter((x) => x.ifname === 'lo')
  const out: ResourceChange[] = []
  const wanted = new Set(d.loopbackVips.map(ipOf))
  for (const cidr of d.loopbackVips) {
    const now = onLo.find((x) => ipOf(x.cidr) === ipOf(cidr))
    if (!now) out.push({kind: 'loopback-vip', id: cidr, action: 'create', before: null, after: {cidr, dev: 'lo'}, reason: 'not on lo'})
    else if (now.cidr !== cidr) out.push({kind: 'loopback-vip', id: cidr, action: 'update', before: {cidr: now.cidr, dev: 'lo'}, after: {cidr, dev: 'lo'}, reason: `prefix ${now.cidr} -> ${cidr}`})
    else out.push({kind: 'loopback-vip', id: cidr, action: 'no-op', before: {cidr, dev: 'lo'}, after: {cidr, dev: 'lo'}})
  }
  for (const x of onLo) {
    const ip = ipOf(x.cidr)
    if (vipAddrs.has(ip) && !wanted.has(ip)) {
      out.push({kind: 'loopback-vip', id: x.cidr, action: 'delete', before: {cidr: x.cidr, dev: 'lo'}, after: null, reason: 'an inventory VIP this host should no longer carry on lo'})
    }
  }
  return out
}

export function hostChanges(d: DesiredHost, a: ActualHost, opts: HostChangeOptions): ResourceChange[] {
  const files = fileChanges(d, a)
  return [
    ...files,
    ...sysctlChanges(d, a),
    ...firewallChanges(d, a, files),
    ...binaryChanges(d, a, opts.kaopsd),
    ...unitChanges(d, a),
    ...loopbackChanges(d, a, opts.inventoryVipAddresses),
  ]
}

