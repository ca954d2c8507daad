/**
 * Recorded facts of a healthy lab (inventories/lab.yaml): dir1 MASTER of VI_1 with
 * 198.18.0.100, dir2 BACKUP, web1/web2 with the VIP on lo and DR ARP sysctl, client as the probe
 * host that saw only dir1's MAC answer ARP. Tests break one thing at a time.
 */
import {createHash} from 'node:crypto'
import {loadInventory} from '../../src/inventory/load.js'
import {configHashOf} from '../../src/model/config-hash.js'
import {renderHosts} from '../../src/render/render-hosts.js'
import type {ActualHost} from '../../src/model/actual-state.js'
import type {DesiredHost} from '../../src/model/desired-state.js'
import type {Inventory} from '../../src/model/inventory.js'
import type {KaopsdStatus, VrrpInstanceStats} from '../../src/model/kaopsd-status.js'
import type {VerifyFacts} from '../../src/model/verify.js'

export const MAC: Record<string, string> = {
  dir1: '02:00:00:00:00:11',
  dir2: '02:00:00:00:00:12',
  web1: '02:00:00:00:00:21',
  web2: '02:00:00:00:00:22',
  client: '02:00:00:00:00:31',
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

export function stats(over: Partial<VrrpInstanceStats> = {}): VrrpInstanceStats {
  return {
    advert_rcvd: 0, advert_sent: 0, become_master: 0, release_master: 0, packet_len_err: 0, ip_ttl_err: 0, invalid_type_rcvd: 0,
    addr_list_err: 0, invalid_authtype: 0, authtype_mismatch: 0, auth_failure: 0, pri_zero_rcvd: 0, pri_zero_sent: 0, ...over,
  }
}

export function status(host: DesiredHost, state: 'MASTER' | 'BACKUP', priority: number, s: VrrpInstanceStats): KaopsdStatus {
  const conf = host.files.find((f) => f.path === '/etc/kaopsd/keepalived.conf')!
  return {
    format_version: 1, version: '0.1.0', pid: 100, uptimeSeconds: 60, configPath: conf.path, configHash: configHashOf(conf.path, conf.content), release: 'r1',
    instances: [{name: 'VI_1', state, vrid: 51, interface: 'eth0', version: 2, family: 4, priority, effectivePriority: priority, vips: ['198.18.0.100/24'],
      masterAddress: '198.18.0.11', lastTransition: null, syncGroup: null, stats: s}],
    virtualServers: [{key: '198.18.0.100:80', address: '198.18.0.100', port: 80, protocol: 'TCP', backend: 'nftables', quorumUp: true,
      realServers: [
        {address: '198.18.0.21', port: 80, weight: 1, up: true, lastCheck: null},
        {address: '198.18.0.22', port: 80, weight: 1, up: true, lastCheck: null},
      ]}],
  }
}

function actualOf(d: DesiredHost): ActualHost {
  const addresses: ActualHost['addresses'] = [{ifname: 'lo', cidr: '127.0.0.1/8', family: 'inet'}, {ifname: 'eth0', cidr: `${d.address}/24`, family: 'inet'}]
  for (const v of d.loopbackVips) addresses.push({ifname: 'lo', cidr: v, family: 'inet'})
  return {
    name: d.name,
    files: d.files.map((f) => ({path: f.path, exists: true, sha256: sha(f.content), mode: f.mode, size: f.content.length, content: f.content})),
    sysctl: d.sysctl.map((s) => ({key: s.key, value: s.value})),
    firewall: d.roles.includes('director') ? {flavour: 'nftables', vrrpRulesPresent: true, rules: 'table inet kaops_vrrp {}'} : {flavour: 'none', vrrpRulesPresent: false, rules: ''},
    binary: d.roles.includes('director') ? {path: '/opt/kaops/current/kaopsd', exists: true, sha256: 'a'.repeat(64), version: 'kaopsd 0.1.0'} : {path: '/opt/kaops/current/kaopsd', exists: false},
    units: d.units.map((u) => ({name: u.name, enabled: u.enabled ? 'enabled' : 'disabled', active: u.active ? 'active' : 'inactive'})),
    addresses,
    managedPaths: [],
  }
}

export async function healthyLab(): Promise<{inv: Inventory; desired: DesiredHost[]; facts: VerifyFacts}> {
  const inv = await loadInventory('inventories/lab.yaml')
  const desired = renderHosts(inv)
  const facts: VerifyFacts = {hosts: {}, arp: [{address: '198.18.0.100', method: 'arping', macs: [MAC.dir1!], raw: `Unicast reply from 198.18.0.100 [${MAC.dir1}]`}], probeHost: 'client'}
  for (const d of desired) {
    const actual = actualOf(d)
    facts.hosts[d.name] = {name: d.name, actual, extra: {gapMs: 2000, macs: {eth0: MAC[d.name]!}, nftRuleset: 'table inet kaops_vrrp {\n}\n', iptables: '-P INPUT ACCEPT\n'}}
  }
  const dir1 = desired.find((d) => d.name === 'dir1')!
  const dir2 = desired.find((d) => d.name === 'dir2')!
  facts.hosts.dir1!.actual!.addresses.push({ifname: 'eth0', cidr: '198.18.0.100/24', family: 'inet'})
  Object.assign(facts.hosts.dir1!.extra!, {status1: status(dir1, 'MASTER', 150, stats({advert_sent: 10})), status2: status(dir1, 'MASTER', 150, stats({advert_sent: 12}))})
  Object.assign(facts.hosts.dir2!.extra!, {status1: status(dir2, 'BACKUP', 100, stats({advert_rcvd: 10})), status2: status(dir2, 'BACKUP', 100, stats({advert_rcvd: 12}))})
  return {inv, desired, facts}
}
