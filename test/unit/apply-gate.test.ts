// The health gate's backup check: a director that stays BACKUP must hear the director holding
// its VIPs, and keep counting its adverts while the gate watches.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {evaluateGate, MIN_ADVERTS_HEARD, type GateObservation} from '../../src/apply/gate.js'
import type {DesiredVip} from '../../src/model/desired-state.js'
import type {KaopsdStatus, VrrpInstanceStats, VrrpInstanceStatus, VrrpStateName} from '../../src/model/kaopsd-status.js'
import {status as routerStatus} from '../../src/daemon/vrrp/router.js'
import {runLan} from '../../src/daemon/vrrp/virtual-clock.js'
import {routerConfig} from './vrrp-fixtures.js'

const VIP = '198.18.0.100/24'
const vips: DesiredVip[] = [{instance: 'VI_1', vrid: 51, addresses: [VIP], expectedMaster: 'dir1'}]
const addr = (ifname: string, cidr: string) => ({ifname, cidr, family: cidr.includes(':') ? ('inet6' as const) : ('inet' as const)})

function stats(over: Partial<VrrpInstanceStats> = {}): VrrpInstanceStats {
  const zero = {advert_rcvd: 0, advert_sent: 0, become_master: 0, release_master: 0, packet_len_err: 0, ip_ttl_err: 0, invalid_type_rcvd: 0, addr_list_err: 0, invalid_authtype: 0, authtype_mismatch: 0, auth_failure: 0, pri_zero_rcvd: 0, pri_zero_sent: 0}
  return {...zero, ...over}
}

function instance(state: VrrpStateName, masterAddress: string | null, over: Partial<VrrpInstanceStats> = {}): VrrpInstanceStatus {
  return {name: 'VI_1', state, vrid: 51, interface: 'eth0', version: 2, family: 4, priority: 100, effectivePriority: 100, vips: [VIP], masterAddress, lastTransition: null, syncGroup: null, stats: stats(over)}
}

function kaopsd(pid: number, inst: VrrpInstanceStatus): KaopsdStatus {
  return {format_version: 1, version: 't', pid, uptimeSeconds: 1, configPath: '/etc/kaops/keepalived.conf', configHash: 'h', release: null, instances: [inst], virtualServers: []}
}

/** dir1 holds the VIP and reports itself as master; dir3 is a third member of the cluster. */
const dir1: GateObservation = {host: 'dir1', active: 'active', addresses: [addr('eth0', '198.18.0.11/24'), addr('eth0', VIP)], status: kaopsd(11, instance('MASTER', '198.18.0.11'))}
const dir3: GateObservation = {host: 'dir3', active: 'active', addresses: [addr('eth0', '198.18.0.13/24')], status: kaopsd(13, instance('BACKUP', '198.18.0.11', {advert_rcvd: 50}))}
const dir2 = (inst: VrrpInstanceStatus, pid = 12): GateObservation => ({host: 'dir2', active: 'active', addresses: [addr('eth0', '198.18.0.12/24')], status: kaopsd(pid, inst)})

test('gate: a backup that hears the holder and keeps counting its adverts is healthy', () => {
  const earlier = [dir1, dir2(instance('BACKUP', '198.18.0.11', {advert_rcvd: 10})), dir3]
  const now = [dir1, dir2(instance('BACKUP', '198.18.0.11', {advert_rcvd: 10 + MIN_ADVERTS_HEARD})), dir3]
  const v = evaluateGate('dir2', vips, now, 'plan', earlier)
  assert.equal(v.ok, true, v.problems.join('; '))
  assert.deepEqual(v.holders, {VI_1: ['dir1']})
  // Without an earlier round (an old caller) only whom it hears is checked.
  assert.equal(evaluateGate('dir2', vips, now, 'plan').ok, true)
})

test('gate: a backup that hears no master names the holder, its address and the drops counted', () => {
  const deaf = dir2(instance('BACKUP', null, {auth_failure: 7}))
  const v = evaluateGate('dir2', vips, [dir1, deaf, dir3], 'plan')
  assert.equal(v.ok, false)
  assert.deepEqual(v.problems, [
    'dir2: VI_1 is BACKUP but hears no master; adverts from dir1 (198.18.0.11) are not arriving or are dropped (drops counted so far: auth_failure=7) — check auth_pass, VRID and the firewall (VRRP, protocol 112) on both',
  ])
  // Nothing counted: no hint. A holder whose status did not answer is named by its own address, not the VIP.
  const quiet = evaluateGate('dir2', vips, [{...dir1, status: undefined}, dir2(instance('BACKUP', null))], 'plan')
  assert.match(quiet.problems.join('\n'), /^dir2: VI_1 is BACKUP but hears no master; adverts from dir1 \(198\.18\.0\.11\) are not arriving or are dropped — check/m)
})

test('gate: a backup that hears some other router is a problem naming both', () => {
  const stranger = evaluateGate('dir2', vips, [dir1, dir2(instance('BACKUP', '198.18.0.99')), dir3], 'plan')
  assert.deepEqual(stranger.problems, [
    "dir2: VI_1 is BACKUP but hears 198.18.0.99, which is not a director of this cluster, not dir1 (198.18.0.11), which holds its VIPs — another router uses VRID 51 on eth0, or dir1's adverts are dropped; check VRIDs and auth_pass",
  ])
  const peer = evaluateGate('dir2', vips, [dir1, dir2(instance('BACKUP', '198.18.0.13')), dir3], 'any')
  assert.match(peer.problems.join('\n'), /dir2: VI_1 is BACKUP but hears dir3 \(198\.18\.0\.13\), not dir1 \(198\.18\.0\.11\)/)
})

test('gate: a backup whose advert counter stops while the gate watches is a problem', () => {
  const at = (n: number, pid = 12) => dir2(instance('BACKUP', '198.18.0.11', {advert_rcvd: n, auth_failure: 3}), pid)
  const stopped = evaluateGate('dir2', vips, [dir1, at(40)], 'plan', [dir1, at(40)])
  assert.deepEqual(stopped.problems, [
    'dir2: VI_1 is BACKUP and last heard dir1 (198.18.0.11), but counted 0 advert(s) while the gate watched; they stopped arriving or are dropped (drops counted so far: auth_failure=3) — check auth_pass, VRID and the firewall (VRRP, protocol 112) on both',
  ])
  // One advert may predate a reload that the first look raced; it takes MIN_ADVERTS_HEARD.
  assert.match(evaluateGate('dir2', vips, [dir1, at(41)], 'plan', [dir1, at(40)]).problems.join(), /counted 1 advert\(s\)/)
  // kaopsd restarted since the first look: its counter started again from zero.
  assert.equal(evaluateGate('dir2', vips, [dir1, at(MIN_ADVERTS_HEARD, 99)], 'plan', [dir1, at(40)]).ok, true)
  assert.equal(evaluateGate('dir2', vips, [dir1, at(1, 99)], 'plan', [dir1, at(40)]).ok, false)
  // The first look had no status (kaopsd still starting): what it counted since start counts.
  assert.equal(evaluateGate('dir2', vips, [dir1, at(MIN_ADVERTS_HEARD)], 'plan', [dir1, {...at(0), status: undefined}]).ok, true)
})

test('gate: right after a restart the backup is a problem only until it has heard the master', () => {
  // What a restarted backup reports round after round (500 ms apart, adverts every second).
  const rounds = [instance('BACKUP', null), instance('BACKUP', '198.18.0.11', {advert_rcvd: 1}), instance('BACKUP', '198.18.0.11', {advert_rcvd: 2})]
  const first = [dir1, dir2(rounds[0]!)]
  const verdicts = rounds.map((r) => evaluateGate('dir2', vips, [dir1, dir2(r)], 'plan', first))
  assert.deepEqual(verdicts.map((v) => v.ok), [false, false, true])
  assert.match(verdicts[0]!.problems.join(), /hears no master/)
})

test('gate: the hearing check leaves alone masters, split or unheld VIPs, and statuses without the field', () => {
  // The subject is the master: nothing to hear.
  assert.equal(evaluateGate('dir1', vips, [dir1, dir2(instance('BACKUP', '198.18.0.11', {advert_rcvd: 5}))], 'plan', [dir1]).ok, true)
  // Two holders: reported as such, not as a deaf backup.
  const split = evaluateGate('dir2', vips, [dir1, {...dir3, addresses: [...dir3.addresses, addr('eth0', VIP)]}, dir2(instance('BACKUP', null))], 'any')
  assert.deepEqual(split.problems, [`VI_1 (${VIP}): held by dir1 and dir3 at once`])
  // No holder: likewise.
  const unheld = evaluateGate('dir2', vips, [{...dir1, addresses: [addr('eth0', '198.18.0.11/24')]}, dir2(instance('BACKUP', null))], 'any')
  assert.deepEqual(unheld.problems, [`VI_1 (${VIP}): held by no director`])
  // A status without masterAddress (another implementation) is no evidence either way.
  const {masterAddress: _omit, ...without} = instance('BACKUP', null)
  assert.equal(evaluateGate('dir2', vips, [dir1, dir2(without as VrrpInstanceStatus)], 'plan').ok, true)
})

test('gate: IPv6 advert sources compare in any spelling, zone or case', () => {
  const v6vips: DesiredVip[] = [{instance: 'VI_1', vrid: 51, addresses: ['2001:db8::100/64'], expectedMaster: 'dir1'}]
  const m: GateObservation = {host: 'dir1', active: 'active', addresses: [addr('eth0', 'fe80::1/64'), addr('eth0', '2001:db8::100/64')], status: undefined}
  const b = (heard: string) => ({...dir2(instance('BACKUP', heard)), addresses: [addr('eth0', 'fe80::2/64')]})
  assert.equal(evaluateGate('dir2', v6vips, [m, b('FE80:0:0::1%eth0')], 'plan').ok, true)
  assert.match(evaluateGate('dir2', v6vips, [m, b('fe80::3')], 'plan').problems.join(), /hears fe80::3, which is not a director/)
})

test('gate, fed by the real VRRP state machine: a restarted backup with the wrong auth_pass fails the gate before it splits the VIP', () => {
  // imp1 is master from the start; imp2 (re)starts at 5 s, as after an apply, with a good or a wrong password.
  const cfg = (primaryAddress: string, priority: number, password: string) => routerConfig({primaryAddress, priority, addresses: ['198.18.0.100'], auth: {type: 'pass', password}})
  const STATE: Record<string, VrrpStateName> = {Initialize: 'INIT', Backup: 'BACKUP', Master: 'MASTER', Fault: 'FAULT', Stopped: 'STOP'}
  const gateVips: DesiredVip[] = [{instance: 'VI_1', vrid: 51, addresses: [VIP], expectedMaster: 'imp1'}]
  /** The gate's view of both directors at `ms`, built from the routers as kaopsd reports them. */
  const lookAt = (password: string, ms: number): GateObservation[] => {
    const primaries = {imp1: '198.18.0.11', imp2: '198.18.0.12'}
    const {routers} = runLan({imp1: cfg(primaries.imp1, 150, 'right'), imp2: cfg(primaries.imp2, 100, password)}, [{at: 0, router: 'imp1', event: {kind: 'startup'}}, {at: 5000, router: 'imp2', event: {kind: 'startup'}}], ms)
    return (['imp1', 'imp2'] as const).map((host) => {
      const r = routers[host]!
      const s = routerStatus(r)
      const inst = {...instance(STATE[r.state]!, s.masterAddress, r.counters), effectivePriority: r.effectivePriority}
      const addresses = [addr('eth0', `${primaries[host]}/24`), ...(r.state === 'Master' ? [addr('eth0', VIP)] : [])]
      return {host, active: 'active', addresses, status: kaopsd(host === 'imp1' ? 1 : 2, inst)}
    })
  }
  // Good password: half a second after the restart it has not heard imp1 yet; a few adverts later the gate passes.
  const first = lookAt('right', 5_100)
  assert.match(evaluateGate('imp2', gateVips, first, 'plan', first).problems.join(), /imp2: VI_1 is BACKUP but hears no master/)
  const later = evaluateGate('imp2', gateVips, lookAt('right', 8_000), 'plan', first)
  assert.equal(later.ok, true, later.problems.join('; '))

  // Wrong password: the VIP is still held once at 8 s, which alone looked healthy; the gate says why it is not.
  const wrongFirst = lookAt('wrong', 5_100)
  const wrong = evaluateGate('imp2', gateVips, lookAt('wrong', 8_000), 'plan', wrongFirst)
  assert.deepEqual(wrong.holders, {VI_1: ['imp1']})
  assert.equal(wrong.problems.length, 1, wrong.problems.join('; '))
  assert.match(wrong.problems[0]!, /^imp2: VI_1 is BACKUP but hears no master; adverts from imp1 \(198\.18\.0\.11\) are not arriving or are dropped \(drops counted so far: auth_failure=\d+\) — check auth_pass/)
  // Left alone it takes the VIP after the master-down interval: a split brain the old checks see only then.
  assert.match(evaluateGate('imp2', gateVips, lookAt('wrong', 10_000), 'plan', wrongFirst).problems.join(), /held by imp1 and imp2 at once/)
})
