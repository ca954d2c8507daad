// The make-before-break handover's pure parts: which VIPs a host holds, which peer takes each
// instance over, and the scripts that ask a peer's kaopsd or retire keepalived.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {heldVips, takeoverPeers} from '../../src/apply/handover-choice.js'
import type {GateObservation} from '../../src/apply/gate.js'
import {parseReplacedDaemonState, retireDaemonScript, takeoverScript} from '../../src/apply/host-scripts.js'
import type {DesiredHost} from '../../src/model/desired-state.js'
import type {KaopsdStatus, VrrpInstanceStatus, VrrpStateName} from '../../src/model/kaopsd-status.js'

const addr = (ifname: string, cidr: string) => ({ifname, cidr, family: 'inet' as const})
const director = (name: string, ip: string): DesiredHost => ({
  name,
  address: ip,
  roles: ['director'],
  ssh: {name, host: ip, port: 22, user: 'root', knownHosts: '/dev/null', sudo: false},
  files: [],
  sysctl: [],
  units: [],
  loopbackVips: [],
  vips: [
    {instance: 'VI_1', vrid: 51, addresses: ['198.18.0.100/24'], expectedMaster: 'dir1'},
    {instance: 'VI_2', vrid: 52, addresses: ['198.18.0.101/24'], expectedMaster: 'dir1'},
  ],
})
function inst(name: string, state: VrrpStateName, effectivePriority: number): VrrpInstanceStatus {
  const stats = {advert_rcvd: 0, advert_sent: 0, become_master: 0, release_master: 0, packet_len_err: 0, ip_ttl_err: 0, invalid_type_rcvd: 0, addr_list_err: 0, invalid_authtype: 0, authtype_mismatch: 0, auth_failure: 0, pri_zero_rcvd: 0, pri_zero_sent: 0}
  return {name, state, vrid: 51, interface: 'eth0', version: 2, family: 4, priority: effectivePriority, effectivePriority, vips: [], masterAddress: null, lastTransition: null, syncGroup: null, stats}
}
const status = (instances: VrrpInstanceStatus[]): KaopsdStatus => ({format_version: 1, version: 't', pid: 1, uptimeSeconds: 1, configPath: '/c', configHash: 'h', release: null, instances, virtualServers: []})
const obs = (host: string, instances: VrrpInstanceStatus[], active = 'active'): GateObservation => ({host, active, addresses: [], status: status(instances)})
const peers = new Map(['dir2', 'dir3'].map((n, i) => [n, director(n, `198.18.0.1${i + 2}`)]))

test('heldVips: the instances whose VIPs are on the host, lo excluded', () => {
  const d = director('dir1', '198.18.0.11')
  assert.deepEqual(heldVips(d, {host: 'dir1', active: 'active', addresses: [addr('eth0', '198.18.0.11/24'), addr('eth0', '198.18.0.101/24')]}).map((v) => v.instance), ['VI_2'])
  assert.deepEqual(heldVips(d, {host: 'dir1', active: 'active', addresses: [addr('lo', '198.18.0.100/32')]}), [], 'a VIP on lo is a DR real server, not a holder')
})

test('takeoverPeers: each instance goes to the highest-priority BACKUP peer running it', () => {
  const choice = takeoverPeers(['VI_1', 'VI_2'], [obs('dir2', [inst('VI_1', 'BACKUP', 100), inst('VI_2', 'BACKUP', 90)]), obs('dir3', [inst('VI_1', 'BACKUP', 80), inst('VI_2', 'BACKUP', 120)])], peers)
  assert.deepEqual(Object.fromEntries(choice!), {dir2: ['VI_1'], dir3: ['VI_2']})
})

test('takeoverPeers: no peer that can take an instance over means no takeover at all (the caller falls back)', () => {
  assert.equal(takeoverPeers(['VI_1'], [obs('dir2', [inst('VI_1', 'FAULT', 100)])], peers), null, 'a FAULT peer cannot take over')
  assert.equal(takeoverPeers(['VI_1'], [obs('dir2', [inst('VI_1', 'BACKUP', 100)], 'inactive')], peers), null, 'a stopped kaopsd cannot')
  assert.equal(takeoverPeers(['VI_1'], [{host: 'dir2', active: 'active', addresses: []}], peers), null, 'a peer without kaopsd status (keepalived) cannot')
  assert.equal(takeoverPeers(['VI_1', 'VI_2'], [obs('dir2', [inst('VI_1', 'BACKUP', 100)])], peers), null, 'all or nothing: VI_2 has no taker')
})

test('takeover scripts: instance names quoted, lease or end, JSON out', () => {
  assert.match(takeoverScript(['VI_1', "it's"], {leaseSeconds: 120}), /\n\/opt\/kaops\/current\/kaopsd takeover --lease 120 --instance VI_1 --instance 'it'\\''s' --json$/)
  assert.match(takeoverScript(['VI_1'], {end: true}), /takeover --end --instance VI_1 --json$/)
})

test('keepalived state and retirement', () => {
  assert.deepEqual(parseReplacedDaemonState('A active E enabled\n'), {active: true, enabled: true})
  assert.deepEqual(parseReplacedDaemonState('A inactive E disabled\n'), {active: false, enabled: false})
  assert.deepEqual(parseReplacedDaemonState('A unknown E \n'), {active: false, enabled: false}, 'not installed')
  assert.match(retireDaemonScript('keepalived.service'), /systemctl disable -q --now keepalived\.service\n/)
})
