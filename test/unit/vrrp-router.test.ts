import {test} from 'node:test'
import assert from 'node:assert/strict'
import {step, type RouterConfig, type RouterEvent} from '../../src/daemon/vrrp/router.js'
import {runLan, type LanInput, type LanStep} from '../../src/daemon/vrrp/virtual-clock.js'
import {masterDownUs, skewUs} from '../../src/daemon/vrrp/timers.js'
import {passwordBytes, type Advert} from '../../src/daemon/vrrp/packet.js'
import {syncGroupDecisions} from '../../src/daemon/vrrp/sync-group.js'
import {drive, routerConfig as cfg} from './vrrp-fixtures.js'


const A = (over: Partial<RouterConfig> = {}): RouterConfig => cfg({name: 'A', priority: 150, primaryAddress: '198.18.240.1', ...over})
const B = (over: Partial<RouterConfig> = {}): RouterConfig => cfg({name: 'B', priority: 100, primaryAddress: '198.18.240.2', ...over})

const start = (router: string, at = 0): LanInput => ({at, router, event: {kind: 'startup'}})
const becameMaster = (steps: LanStep[], router: string): LanStep[] =>
  steps.filter((s) => s.router === router && s.actions.some((a) => a.kind === 'addAddresses'))
const sentAt = (steps: LanStep[], router: string): number[] =>
  steps.filter((s) => s.router === router && s.actions.some((a) => a.kind === 'sendAdvert')).map((s) => s.at)

function advert(over: Partial<Advert> = {}): Advert {
  return {version: 2, vrid: 51, priority: 150, advertIntervalCs: 100, addresses: ['198.18.240.100'], authType: 0, authData: new Uint8Array(8), checksum: 0, ...over}
}
const rx = (over: Partial<Advert> = {}, src = '198.18.240.1', ttl: number | null = 255, dst = '224.0.0.18'): RouterEvent => ({kind: 'advert', advert: advert(over), src, dst, ttl})


test('timing formulas are keepalived\'s: v2 skew in seconds, v3 skew from the master interval', () => {
  assert.equal(skewUs(2, 100, 1_000_000), 609_375)
  assert.equal(masterDownUs(2, 100, 1_000_000), 3_609_375) // the mission's 3.609 s anchor
  assert.equal(skewUs(2, 100, 3_000_000), 609_375, 'v2 skew ignores advert_int (RFC 3768 6.1)')
  assert.equal(skewUs(3, 100, 1_000_000), 609_375)
  assert.equal(skewUs(3, 100, 10_000), 6_093, 'v3 at 1 cs')
  assert.equal(masterDownUs(3, 200, 500_000), 1_500_000 + 109_375)
})

test('election: higher priority wins; backup stays quiet and keeps its addresses off', () => {
  const {steps, routers} = runLan({A: A(), B: B()}, [start('A'), start('B')], 10_000)
  assert.equal(routers.A!.state, 'Master')
  assert.equal(routers.B!.state, 'Backup')
  // A (150) times out first: 3 s + (106/256) s
  assert.equal(becameMaster(steps, 'A')[0]!.at, 3414.062)
  assert.deepEqual(becameMaster(steps, 'B'), [])
  assert.deepEqual(sentAt(steps, 'B'), [])
  assert.equal(routers.A!.counters.become_master, 1)
  assert.ok(routers.B!.counters.advert_rcvd >= 6)
})

test('hard failure: the backup becomes master exactly 3*adv + skew after the last advert', () => {
  const {steps, routers} = runLan({A: A(), B: B()}, [start('A'), start('B'), {at: 7000, router: 'A', event: {kind: 'crash'}}], 20_000)
  const last = sentAt(steps, 'A').filter((t) => t < 7000).at(-1)!
  const take = becameMaster(steps, 'B')[0]!
  assert.equal(take.at - last, 3609.375)
  assert.equal(routers.B!.state, 'Master')
  const log = take.actions.find((a) => a.kind === 'notify')
  assert.deepEqual(log, {kind: 'notify', state: 'MASTER', reason: 'master down timer expired'})
})

test('graceful stop: priority 0 advert, the backup takes over after skew time', () => {
  const {steps, routers} = runLan({A: A(), B: B()}, [start('A'), start('B'), {at: 7000, router: 'A', event: {kind: 'shutdown'}}], 20_000)
  const stop = steps.find((s) => s.router === 'A' && s.event.kind === 'shutdown')!
  const zero = stop.actions.find((a) => a.kind === 'sendAdvert')
  assert.ok(zero && zero.kind === 'sendAdvert' && zero.advert.priority === 0)
  assert.ok(stop.actions.some((a) => a.kind === 'removeAddresses'))
  assert.equal(routers.A!.counters.pri_zero_sent, 1)
  assert.equal(routers.B!.counters.pri_zero_rcvd, 1)
  const take = becameMaster(steps, 'B')[0]!
  assert.equal(take.at - 7000, 609.375)
  assert.match(JSON.stringify(take.actions), /priority 0 received from 198\.18\.240\.1/)
})

test('preempt: a higher priority router that starts later takes over after its master down interval', () => {
  const {steps, routers} = runLan({A: A(), B: B()}, [start('B'), start('A', 6000)], 15_000)
  assert.equal(becameMaster(steps, 'B')[0]!.at, 3609.375)
  const take = becameMaster(steps, 'A')[0]!
  assert.equal(take.at, 6000 + 3414.062)
  assert.equal(routers.A!.state, 'Master')
  assert.equal(routers.B!.state, 'Backup')
  assert.equal(routers.B!.counters.release_master, 1)
  assert.match(JSON.stringify(steps.filter((s) => s.router === 'B')), /higher priority advert \(150, ours 100\) from 198\.18\.240\.1/)
})

test('nopreempt: the higher priority router stays backup', () => {
  const {steps, routers} = runLan({A: A({preempt: false}), B: B()}, [start('B'), start('A', 6000)], 20_000)
  assert.deepEqual(becameMaster(steps, 'A'), [])
  assert.equal(routers.A!.state, 'Backup')
  assert.equal(routers.B!.state, 'Master')
})

test('preempt_delay: takeover only after the delay has passed since the first lower advert', () => {
  const {steps, routers} = runLan({A: A({preemptDelayCs: 1000}), B: B()}, [start('B'), start('A', 6000)], 30_000)
  const take = becameMaster(steps, 'A')[0]!
  // first lower-priority advert reaches A at B's first advert after 6000 (B sends at 3609.375 + n s)
  const firstLower = sentAt(steps, 'B').find((t) => t >= 6000)!
  const deadline = firstLower + 10_000
  assert.ok(take.at > deadline, `took over at ${take.at}, delay ends ${deadline}`)
  // after the delay, adverts are ignored and the down timer (reset by the last accepted advert) expires
  const lastAccepted = sentAt(steps, 'B').filter((t) => t < deadline).at(-1)!
  assert.equal(take.at, lastAccepted + 3414.062)
  assert.equal(routers.A!.state, 'Master')
})

test('tie-break: equal priority, the higher primary address wins', () => {
  const {routers} = runLan(
    {A: A({priority: 100}), B: B({priority: 100})},
    [start('A'), start('B')],
    10_000,
    1, // 1 ms on the wire, so both time out before hearing the other
  )
  assert.equal(routers.B!.state, 'Master', '198.18.240.2 > 198.18.240.1')
  assert.equal(routers.A!.state, 'Backup')
  assert.equal(routers.A!.counters.release_master, 1, 'both timed out together, the lower address yielded')
})

test('priority 255: the address owner is master at once', () => {
  const {r, actions} = drive(A({priority: 255}), [[0, {kind: 'startup'}]])
  assert.equal(r.state, 'Master')
  assert.ok(actions.some((a) => a.kind === 'sendAdvert' && a.advert.priority === 255))
})

test('VRRPv3: the backup learns the master interval; advert_int down to 0.01 s', () => {
  const a = A({version: 3, advertIntervalCs: 1})
  const b = B({version: 3, advertIntervalCs: 100})
  const {steps, routers} = runLan({A: a, B: b}, [start('A'), start('B'), {at: 2000, router: 'A', event: {kind: 'crash'}}], 8000)
  assert.equal(routers.B!.masterAdverIntUs, 1_000_000, 'once master, B is back to its own interval')
  const last = sentAt(steps, 'A').at(-1)!
  const take = becameMaster(steps, 'B')[0]!
  // 3 * 10 ms + (156 * 1 cs * 625 / 16) us = 30 ms + 6.093 ms
  assert.equal(Math.round((take.at - last) * 1000), 36_093)
})

test('fault: a weight-0 tracker failing sends priority 0, releases, and recovers to backup', () => {
  const {r, actions} = drive(A(), [
    [0, {kind: 'startup'}],
    [3414.062, {kind: 'timer', timer: 'MasterDown'}],
    [5000, {kind: 'track', name: 'chk_nginx', trackKind: 'script', up: false, weight: 0}],
  ])
  assert.equal(r.state, 'Fault')
  assert.ok(actions.some((a) => a.kind === 'sendAdvert' && a.advert.priority === 0))
  assert.ok(actions.some((a) => a.kind === 'removeAddresses'))
  assert.ok(actions.some((a) => a.kind === 'notify' && a.state === 'FAULT' && a.reason === 'track script chk_nginx failed'))
  assert.equal(r.counters.release_master, 1)
  const back = step(r, {kind: 'track', name: 'chk_nginx', trackKind: 'script', up: true, weight: 0}, 6000)
  assert.equal(back.router.state, 'Backup')
  assert.ok(back.actions.some((a) => a.kind === 'startTimer' && a.timer === 'MasterDown' && a.deadline === 6000 + 3414.062))
  // adverts are ignored while in Fault
  const inFault = step(r, rx({priority: 200}), 5500)
  assert.equal(inFault.router.counters.advert_rcvd, 0)
})

test('weights move the effective priority and the skew with it', () => {
  const {r} = drive(B(), [
    [0, {kind: 'startup'}],
    [10, {kind: 'track', name: 'up_script', trackKind: 'script', up: true, weight: 20}],
    [20, {kind: 'track', name: 'down_script', trackKind: 'script', up: false, weight: -50}],
  ])
  assert.equal(r.effectivePriority, 70)
  const out = step(r, rx({priority: 150}), 30)
  assert.ok(out.actions.some((a) => a.kind === 'startTimer' && a.timer === 'MasterDown' && a.deadline === 30 + masterDownUs(2, 70, 1e6) / 1000))
})

test('interface down -> Fault, up -> Backup', () => {
  const {r, actions} = drive(B(), [[0, {kind: 'startup'}], [100, {kind: 'interface', up: false}]])
  assert.equal(r.state, 'Fault')
  assert.ok(actions.some((a) => a.kind === 'stopTimer' && a.timer === 'MasterDown'))
  assert.equal(step(r, {kind: 'interface', up: true}, 200).router.state, 'Backup')
})

test('master answers a lower priority advert (forcing a new election) and a priority 0 one', () => {
  const {r} = drive(A(), [[0, {kind: 'startup'}], [3414.062, {kind: 'timer', timer: 'MasterDown'}]])
  const low = step(r, rx({priority: 50}, '198.18.240.2'), 3500)
  assert.equal(low.router.state, 'Master')
  assert.ok(low.actions.some((a) => a.kind === 'sendAdvert' && a.advert.priority === 150))
  const zero = step(r, rx({priority: 0}, '198.18.240.2'), 3500)
  assert.equal(zero.router.counters.pri_zero_rcvd, 1)
  assert.ok(zero.actions.some((a) => a.kind === 'startTimer' && a.timer === 'Advert' && a.deadline === 4500))
})

test('each receive check bumps its own counter and never moves the state', () => {
  const base = drive(B({auth: {type: 'pass', password: 'secret123'}, addresses: ['198.18.240.100', '198.18.240.101']}), [[0, {kind: 'startup'}]]).r
  const pass = passwordBytes('secret123')
  const good = {priority: 200, authType: 1, authData: pass, addresses: ['198.18.240.100', '198.18.240.101']}
  const cases: [string, RouterEvent][] = [
    ['ip_ttl_err', rx(good, '198.18.240.1', 64)],
    ['vers_err', rx({...good, version: 3})],
    ['vrid_err', rx({...good, vrid: 52})],
    ['invalid_authtype', rx({...good, authType: 7})],
    ['authtype_mismatch', rx({...good, authType: 0})],
    ['auth_failure', rx({...good, authData: passwordBytes('wrong')})],
    ['advert_interval_err', rx({...good, advertIntervalCs: 200})],
    ['addr_list_err', rx({...good, addresses: ['198.18.240.100']})],
    ['addr_list_err', rx({...good, addresses: ['198.18.240.100', '198.18.240.109']})],
    ['addr_list_err', rx(good, '198.18.240.1', 255, '198.18.240.2')],
    ['packet_len_err', {kind: 'malformed', src: '198.18.240.1', error: {kind: 'length_mismatch', message: 'x'}}],
    ['invalid_type_rcvd', {kind: 'malformed', src: '198.18.240.1', error: {kind: 'bad_type', message: 'x'}}],
    ['chk_err', {kind: 'malformed', src: '198.18.240.1', error: {kind: 'bad_checksum', message: 'x'}}],
  ]
  for (const [counter, ev] of cases) {
    const out = step(base, ev, 100)
    assert.equal(out.router.counters[counter as keyof typeof out.router.counters], 1, counter)
    assert.equal(out.router.state, 'Backup', counter)
    assert.ok(!out.actions.some((a) => a.kind === 'startTimer'), `${counter}: the down timer was not reset`)
  }
  const ok = step(base, rx(good), 100)
  assert.equal(ok.router.counters.advert_rcvd, 1)
  assert.ok(ok.actions.some((a) => a.kind === 'startTimer' && a.timer === 'MasterDown'))
  // skip_check_adv_addr: only for the known master
  const skip = drive(B({skipCheckAdvAddr: true}), [[0, {kind: 'startup'}], [10, rx({priority: 200})]]).r
  assert.equal(step(skip, rx({priority: 200, addresses: []}), 20).router.counters.addr_list_err, 0)
  assert.equal(step(skip, rx({priority: 200, addresses: []}, '198.18.240.9'), 20).router.counters.addr_list_err, 1)
})

test('unicast: source must be a configured peer; TTL is not checked', () => {
  const u = drive(B({unicastPeers: ['198.18.240.1']}), [[0, {kind: 'startup'}]]).r
  const fromPeer = step(u, rx({priority: 200}, '198.18.240.1', 64, '198.18.240.2'), 10)
  assert.equal(fromPeer.router.counters.advert_rcvd, 1)
  const stranger = step(u, rx({priority: 200}, '198.18.240.66', 255, '198.18.240.2'), 10)
  assert.equal(stranger.router.counters.unknown_peer_err, 1)
  assert.ok(!stranger.actions.some((a) => a.kind === 'startTimer'))
  const mcast = step(u, rx({priority: 200}, '198.18.240.1', 255, '224.0.0.18'), 10)
  assert.equal(mcast.router.counters.addr_list_err, 1)
})

test('unicast LAN: election and hard failure between two peers', () => {
  const a = A({unicastPeers: ['198.18.240.2']})
  const b = B({unicastPeers: ['198.18.240.1']})
  const {steps, routers} = runLan({A: a, B: b}, [start('A'), start('B'), {at: 7000, router: 'A', event: {kind: 'crash'}}], 15_000)
  const sent = steps.find((s) => s.router === 'A' && s.actions.some((x) => x.kind === 'sendAdvert'))!
  assert.deepEqual(sent.actions.find((x) => x.kind === 'sendAdvert')!.kind === 'sendAdvert' && (sent.actions.find((x) => x.kind === 'sendAdvert') as {destinations: string[]}).destinations, ['198.18.240.2'])
  assert.ok(routers.B!.counters.advert_rcvd >= 3)
  assert.equal(routers.B!.counters.unknown_peer_err, 0)
  assert.equal(becameMaster(steps, 'B')[0]!.at - sentAt(steps, 'A').filter((t) => t < 7000).at(-1)!, 3609.375)
})

test('GARP: burst on takeover, a second after garp_master_delay, refresh while master', () => {
  const {actions, r} = drive(A({excludedAddresses: ['198.18.241.1'], garp: {masterDelayCs: 500, masterRepeat: 3, masterRefreshCs: 6000, masterRefreshRepeat: 2, intervalCs: 1}}), [
    [0, {kind: 'startup'}],
    [3414.062, {kind: 'timer', timer: 'MasterDown'}],
  ])
  const garp = actions.filter((a) => a.kind === 'sendGratuitous')
  assert.deepEqual(garp, [{kind: 'sendGratuitous', family: 'ipv4', addresses: ['198.18.240.100', '198.18.241.1'], repeat: 3, intervalMs: 10}])
  assert.equal(r.timers.GarpDelay, 3414.062 + 5000)
  assert.equal(r.timers.GarpRefresh, 3414.062 + 60_000)
  const later = step(r, {kind: 'timer', timer: 'GarpRefresh'}, r.timers.GarpRefresh!)
  assert.ok(later.actions.some((a) => a.kind === 'sendGratuitous' && a.repeat === 2))
})

test('reload: unchanged instance keeps state and addresses; a new VIP is added alone', () => {
  const {r} = drive(A(), [[0, {kind: 'startup'}], [3414.062, {kind: 'timer', timer: 'MasterDown'}]])
  const same = step(r, {kind: 'reload', config: A()}, 4000)
  assert.equal(same.router.state, 'Master')
  assert.deepEqual(same.actions.filter((a) => a.kind !== 'log'), [])
  const more = step(r, {kind: 'reload', config: A({addresses: ['198.18.240.100', '198.18.240.102']})}, 4000)
  assert.deepEqual(more.actions.find((a) => a.kind === 'addAddresses'), {kind: 'addAddresses', addresses: ['198.18.240.102'], excluded: [], routes: []})
  assert.ok(!more.actions.some((a) => a.kind === 'removeAddresses' || (a.kind === 'sendAdvert' && a.advert.priority === 0)))
})

test('sync group: one to Fault takes all to Fault, one to Master takes the others, faults release', () => {
  assert.deepEqual(
    syncGroupDecisions('G', [
      {name: 'a', before: 'Master', after: 'Fault', ownFault: true},
      {name: 'b', before: 'Master', after: 'Master', ownFault: false},
    ]),
    [{member: 'b', want: 'Fault', reason: 'sync group G: a is in FAULT'}],
  )
  assert.deepEqual(
    syncGroupDecisions('G', [
      {name: 'a', before: 'Fault', after: 'Backup', ownFault: false},
      {name: 'b', before: 'Fault', after: 'Fault', ownFault: false},
    ]).map((d) => [d.member, d.want]),
    [['b', 'Backup']],
  )
  assert.deepEqual(
    syncGroupDecisions('G', [
      {name: 'a', before: 'Backup', after: 'Master', ownFault: false},
      {name: 'b', before: 'Backup', after: 'Backup', ownFault: false},
    ]).map((d) => [d.member, d.want]),
    [['b', 'Master']],
  )
  assert.deepEqual(
    syncGroupDecisions('G', [
      {name: 'a', before: 'Master', after: 'Backup', ownFault: false},
      {name: 'b', before: 'Master', after: 'Master', ownFault: false},
    ]).map((d) => [d.member, d.want]),
    [['b', 'Backup']],
  )
  // a router told to follow really moves
  const b = drive(B(), [[0, {kind: 'startup'}]]).r
  const m = step(b, {kind: 'sync', want: 'Master', reason: 'sync group G: a became MASTER'}, 10)
  assert.equal(m.router.state, 'Master')
  const f = step(m.router, {kind: 'sync', want: 'Fault', reason: 'sync group G: a is in FAULT'}, 20)
  assert.equal(f.router.state, 'Fault')
  assert.equal(step(f.router, {kind: 'sync', want: 'Backup', reason: 'sync group G: no member in FAULT'}, 30).router.state, 'Backup')
})
