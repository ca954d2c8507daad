// The health gate's "plan" placement mid-rollout: a holder other than the plan's master is
// excused only while the priorities the directors run now keep it there (a priority swap whose
// new master was changed first ties with the old one, which VRRP does not preempt), never when
// the plan's master outranks it or a priority is unknown.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {evaluateGate, type GateObservation} from '../../src/apply/gate.js'
import type {DesiredVip} from '../../src/model/desired-state.js'
import type {KaopsdStatus, VrrpInstanceStatus, VrrpStateName} from '../../src/model/kaopsd-status.js'

const VIP = '198.18.0.100/24'
const vips: DesiredVip[] = [{instance: 'VI_1', vrid: 51, addresses: [VIP], expectedMaster: 'dir2'}]
const addr = (ifname: string, cidr: string) => ({ifname, cidr, family: 'inet' as const})

function instance(state: VrrpStateName, priority: number, masterAddress: string): VrrpInstanceStatus {
  const stats = {advert_rcvd: 50, advert_sent: 0, become_master: 0, release_master: 0, packet_len_err: 0, ip_ttl_err: 0, invalid_type_rcvd: 0, addr_list_err: 0, invalid_authtype: 0, authtype_mismatch: 0, auth_failure: 0, pri_zero_rcvd: 0, pri_zero_sent: 0}
  return {name: 'VI_1', state, vrid: 51, interface: 'eth0', version: 2, family: 4, priority, effectivePriority: priority, vips: [VIP], masterAddress, lastTransition: null, syncGroup: null, stats}
}

const kaopsd = (inst: VrrpInstanceStatus): KaopsdStatus => ({format_version: 1, version: 't', pid: 1, uptimeSeconds: 1, configPath: '/x', configHash: 'h', release: null, instances: [inst], virtualServers: []})

/** dir1 holds the VIP at `holderPriority`; dir2 (the plan's master, just changed) is BACKUP at `planned`. */
function cluster(holderPriority: number, planned: number): GateObservation[] {
  return [
    {host: 'dir1', active: 'active', addresses: [addr('eth0', '198.18.0.11/24'), addr('eth0', VIP)], status: kaopsd(instance('MASTER', holderPriority, '198.18.0.11'))},
    {host: 'dir2', active: 'active', addresses: [addr('eth0', '198.18.0.12/24')], status: kaopsd(instance('BACKUP', planned, '198.18.0.11'))},
    {host: 'dir3', active: 'active', addresses: [addr('eth0', '198.18.0.13/24')], status: kaopsd(instance('BACKUP', 100, '198.18.0.11'))},
  ]
}

test('gate: the old master still running the higher or an equal priority may hold the VIP the plan gives another', () => {
  // 150/120/100 -> 110/150/100, dir2 changed first: 150 against dir1's running 150, no preemption.
  const tie = evaluateGate('dir2', vips, cluster(150, 150), 'plan')
  assert.equal(tie.ok, true, tie.problems.join('; '))
  assert.equal(evaluateGate('dir2', vips, cluster(150, 140), 'plan').ok, true)
})

test('gate: the plan master outranking the holder, or a priority unknown, is still misplaced', () => {
  assert.match(evaluateGate('dir2', vips, cluster(110, 150), 'plan').problems.join(), /VI_1: held by dir1, the plan expects dir2/)
  const unknown = cluster(150, 150)
  unknown[1] = {...unknown[1]!, status: {...unknown[1]!.status!, instances: []}}
  assert.match(evaluateGate('dir3', vips, unknown, 'plan').problems.join(), /held by dir1, the plan expects dir2/)
  // "any" placement never asked for the plan's master.
  assert.equal(evaluateGate('dir2', vips, cluster(110, 150), 'any').ok, true)
})

test('gate: a daemon still on its old configuration (a refused reload) fails, and its old priorities excuse nothing', () => {
  // dir2 should now run 200 but kaopsd kept its old config (configHash 'h', old priority 110):
  // its running priorities would explain dir1 holding the VIP; the hash says they are stale.
  const v = evaluateGate('dir2', vips, cluster(160, 110), 'plan', undefined, 'e'.repeat(64))
  assert.equal(v.ok, false)
  assert.match(v.problems.join('\n'), /dir2: kaopsd does not run this release's configuration \(configHash h, expected eeeeeeeeeeee\)/)
  assert.match(v.problems.join('\n'), /VI_1: held by dir1, the plan expects dir2/)
  // The same observations with the expected hash: the running priorities are the plan's.
  assert.equal(evaluateGate('dir2', vips, cluster(160, 150), 'plan', undefined, 'h').ok, true)
})
