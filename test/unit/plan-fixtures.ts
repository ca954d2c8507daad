// Recorded-style desired and actual states for plan tests (not a test file itself).
import {createHash} from 'node:crypto'
import type {DesiredHost} from '../../src/model/desired-state.js'
import type {ActualHost} from '../../src/model/actual-state.js'

export const SECRET = 's3cr3t-Pass'
export const sha = (s: string) => createHash('sha256').update(s).digest('hex')

const ssh = (name: string, host: string) => ({name, host, port: 22, user: 'root', knownHosts: '/nonexistent', sudo: false})

export const keepalivedConf = (prio: number, pass = SECRET) =>
  `vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority ${prio}\n    authentication {\n        auth_type PASS\n        auth_pass ${pass}\n    }\n    virtual_ipaddress {\n        198.18.0.100/24\n    }\n}\n`

export function director(name: string, address: string, prio: number): DesiredHost {
  return {
    name,
    address,
    roles: ['director'],
    ssh: ssh(name, address),
    files: [
      {path: '/etc/kaops/keepalived.conf', content: keepalivedConf(prio), mode: 0o600, secrets: [SECRET]},
      {path: '/etc/nftables.d/kaops-vrrp.nft', content: 'table inet kaops_vrrp {\n}\n', mode: 0o644},
      {path: '/etc/sysctl.d/90-kaops.conf', content: 'net.ipv4.ip_forward = 1\n', mode: 0o644},
      {path: '/etc/systemd/system/kaopsd.service', content: '[Service]\nExecStart=/opt/kaops/current/kaopsd\n', mode: 0o644},
    ],
    sysctl: [{key: 'net.ipv4.ip_forward', value: '1'}],
    units: [{name: 'kaopsd.service', enabled: true, active: true}],
    loopbackVips: [],
    vips: [{instance: 'VI_1', vrid: 51, addresses: ['198.18.0.100/24'], expectedMaster: 'dir1'}],
  }
}

export function realServer(name: string, address: string): DesiredHost {
  return {
    name,
    address,
    roles: ['real-server'],
    ssh: ssh(name, address),
    files: [{path: '/etc/sysctl.d/90-kaops-arp.conf', content: 'net.ipv4.conf.all.arp_ignore = 1\n', mode: 0o644}],
    sysctl: [{key: 'net.ipv4.conf.all.arp_ignore', value: '1'}],
    units: [{name: 'kaops-lo-vip.service', enabled: true, active: true}],
    loopbackVips: ['198.18.0.100/32'],
    vips: [],
  }
}

export const desiredLab = (): DesiredHost[] => [director('dir1', '198.18.0.11', 150), director('dir2', '198.18.0.12', 100), realServer('web1', '198.18.0.21')]

const baseAddrs = (ip: string) => [
  {ifname: 'lo', cidr: '127.0.0.1/8', family: 'inet' as const},
  {ifname: 'eth0', cidr: `${ip}/24`, family: 'inet' as const},
]

/** A freshly installed host: nothing of kaops, default kernel settings. */
export function freshActual(d: DesiredHost): ActualHost {
  return {
    name: d.name,
    files: d.files.map((f) => ({path: f.path, exists: false})),
    sysctl: d.sysctl.map((s) => ({key: s.key, value: '0'})),
    firewall: {flavour: 'nftables', vrrpRulesPresent: false, rules: ''},
    binary: {path: '/opt/kaops/current/kaopsd', exists: false},
    units: d.units.map((u) => ({name: u.name, enabled: 'not-found', active: 'inactive'})),
    addresses: baseAddrs(d.address),
    managedPaths: [],
  }
}

export const KAOPSD_SHA = sha('kaopsd-binary-v1')

/** A host exactly as desired (as after a successful apply); dir1 holds the VIP. */
export function convergedActual(d: DesiredHost): ActualHost {
  const addresses = baseAddrs(d.address)
  if (d.name === 'dir1') addresses.push({ifname: 'eth0', cidr: '198.18.0.100/24', family: 'inet'})
  for (const v of d.loopbackVips) addresses.push({ifname: 'lo', cidr: v, family: 'inet'})
  return {
    name: d.name,
    files: d.files.map((f) => ({path: f.path, exists: true, sha256: sha(f.content), mode: f.mode, size: Buffer.byteLength(f.content), content: f.content})),
    sysctl: d.sysctl.map((s) => ({key: s.key, value: s.value})),
    firewall: {flavour: 'nftables', vrrpRulesPresent: true, rules: 'table inet kaops_vrrp {\n}\n'},
    binary: d.roles.includes('director') ? {path: '/opt/kaops/current/kaopsd', exists: true, sha256: KAOPSD_SHA, version: 'kaopsd 0.1.0'} : {path: '/opt/kaops/current/kaopsd', exists: false},
    units: d.units.map((u) => ({name: u.name, enabled: 'enabled', active: 'active'})),
    addresses,
    managedPaths: d.files.map((f) => f.path),
  }
}

export const actualMap = (desired: DesiredHost[], f: (d: DesiredHost) => ActualHost) => new Map<string, ActualHost | Error>(desired.map((d) => [d.name, f(d)]))
