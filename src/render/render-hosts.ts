import type {DesiredHost, DesiredVip, ManagedFile, SysctlSetting} from '../model/desired-state.js'
import type {Director, Inventory} from '../model/inventory.js'
import {expectedMaster, hostPart, vipPriorities} from '../inventory/derive.js'
import {firewallFiles} from './firewall.js'
import {keepalivedView} from './keepalived-view.js'
import {KAOPSD_BINARY_PATH, KAOPSD_CONFIG_PATH, KAOPSD_LOG_PATH, KAOPSD_UNIT, KAOPSD_UNIT_PATH, LO_VIP_UNIT, LO_VIP_UNIT_PATH, MANAGED_HEADER, REPLACED_DAEMON_UNIT, SYSCTL_PATH} from './paths.js'
import {directorSysctl, loopbackVips, realServerSysctl} from './sysctl.js'
import {sshTarget} from './ssh-target.js'
import {renderTemplate} from './templates.js'

export interface RenderOptions {
  kaopsdVersion?: string
  kaopsdSha256?: string
}

const byPath = (a: ManagedFile, b: ManagedFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)

function sysctlFile(purpose: string, settings: SysctlSetting[]): ManagedFile[] {
  if (settings.length === 0) return []
  return [{path: SYSCTL_PATH, mode: 0o644, content: renderTemplate('sysctl.conf', {header: MANAGED_HEADER, purpose, settings})}]
}

function director(inv: Inventory, d: Director, opts: RenderOptions): DesiredHost {
  const conf = renderTemplate('keepalived.conf', {header: MANAGED_HEADER, ...keepalivedView(inv, d)})
  const secrets = inv.vips
    .filter((v) => vipPriorities(v).some(([n]) => n === d.name))
    .map((v) => inv.secrets[v.name]?.reveal())
    .filter((s): s is string => s !== undefined)
  const release = [opts.kaopsdVersion, opts.kaopsdSha256 && `sha256 ${opts.kaopsdSha256}`].filter(Boolean).join(' ')
  const unit = renderTemplate('kaopsd.service', {
    header: MANAGED_HEADER,
    release: release === '' ? null : release,
    execStart: [KAOPSD_BINARY_PATH, '-n', '-l', ...inv.kaopsd.options, '-f', KAOPSD_CONFIG_PATH].join(' '),
    logPath: KAOPSD_LOG_PATH,
  })
  const sysctl = directorSysctl(inv, d)
  const fw = firewallFiles(inv, d)
  const configFile: ManagedFile = {path: KAOPSD_CONFIG_PATH, content: conf, mode: 0o600}
  if (secrets.length > 0) configFile.secrets = [...new Set(secrets)].sort()
  const files = [configFile, {path: KAOPSD_UNIT_PATH, content: unit, mode: 0o644}, ...sysctlFile(`kernel settings for the director ${d.name}`, sysctl), ...fw.files]
  const vips: DesiredVip[] = inv.vips
    .filter((v) => vipPriorities(v).some(([n]) => n === d.name))
    .map((v) => ({instance: v.name, vrid: v.vrid, addresses: v.addresses.map((a) => a.address), expectedMaster: expectedMaster(v)!}))
  return {
    name: d.name,
    address: hostPart(d.address),
    roles: ['director'],
    ssh: sshTarget(d.name, hostPart(d.address), inv.ssh, d.ssh),
    files: files.sort(byPath),
    sysctl,
    units: [...[KAOPSD_UNIT, ...fw.units].map((name) => ({name, enabled: true, active: true})), {name: REPLACED_DAEMON_UNIT, enabled: false, active: false}].sort((a, b) => (a.name < b.name ? -1 : 1)),
    loopbackVips: [],
    vips,
  }
}

/**
 * Every host's desired state from a loaded inventory: directors, real servers (files only when
 * `prepare` and they serve a DR service), probes (nothing to manage). Pure and deterministic:
 * the same inventory gives the same bytes, hosts in inventory order, files sorted by path.
 */
export function renderHosts(inventory: Inventory, opts: RenderOptions = {}): DesiredHost[] {
  const inv = inventory
  const hosts: DesiredHost[] = inv.directors.map((d) => director(inv, d, opts))
  for (const r of inv.realServers) {
    const address = hostPart(r.address)
    const lo = r.prepare ? loopbackVips(inv, r) : []
    const sysctl = r.prepare ? realServerSysctl(inv, r) : []
    const files: ManagedFile[] = [...sysctlFile(`LVS-DR real server ${r.name}: do not answer ARP for the VIPs on lo`, sysctl)]
    if (lo.length > 0) {
      files.push({path: LO_VIP_UNIT_PATH, mode: 0o644, content: renderTemplate('kaops-lo-vip.service', {header: MANAGED_HEADER, sysctlPath: SYSCTL_PATH, addresses: lo})})
    }
    hosts.push({
      name: r.name,
      address,
      roles: ['real-server'],
      ssh: sshTarget(r.name, address, inv.ssh, r.ssh),
      files: files.sort(byPath),
      sysctl,
      units: lo.length > 0 ? [{name: LO_VIP_UNIT, enabled: true, active: true}] : [],
      loopbackVips: lo,
      vips: [],
    })
  }
  for (const p of inv.probes) {
    const address = hostPart(p.address)
    hosts.push({name: p.name, address, roles: ['probe'], ssh: sshTarget(p.name, address, inv.ssh, undefined), files: [], sysctl: [], units: [], loopbackVips: [], vips: []})
  }
  return hosts
}
