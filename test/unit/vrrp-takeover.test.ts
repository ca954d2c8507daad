// Operator takeover (`kaopsd takeover`) on the virtual clock: a backup becomes master at once
// at priority 254, the old master lets go only after the new one holds the VIPs, and ending the
// takeover (or its lease running out) gives mastership back to a preempting higher priority.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {status, step, type RouterConfig} from '../../src/daemon/vrrp/router.js'
import {runLan, type LanInput, type LanStep} from '../../src/daemon/vrrp/virtual-clock.js'
import {masterDownUs} from '../../src/daemon/vrrp/timers.js'
import {withSyncGroupMembers} from '../../src/daemon/vrrp/sync-group.js'
import {drive, routerConfig as cfg} from './vrrp-fixtures.js'

const A = (over: Partial<RouterConfig> = {}): RouterConfig => cfg({name: 'A', priority: 150, primaryAddress: '198.18.240.1', ...over})
const B = (over: Partial<RouterConfig> = {}): RouterConfig => cfg({name: 'B', priority: 100, primaryAddress: '198.18.240.2', ...over})
const start = (router: string, at = 0): LanInput => ({at, router, event: {kind: 'startup'}})
const takeover = (router: string, at: number, leaseMs = 60_000, reason?: string): LanInput => ({at, router, event: {kind: 'takeover', leaseMs, ...(reason ? {reason} : {})}})
const end = (router: string, at: number): LanInput => ({at, router, event: {kind: 'takeoverEnd', reason: 'peer restarted'}})

/** A (150, preempt) is master from 3414 ms on; B (100) its backup. */
const settled = [start('A'), start('B')]

/**
 * Replays the steps and checks that, once someone first held the VIP, at every instant (after
 * every step) at least one router holds it. Returns who held it after each step.
 */
function assertNeverUnheld(steps: LanStep[]): string[][] {
  const holders = new Set<string>()
  const history: string[][] = []
  let held = false
  for (const s of steps) {
    for (const a of s.actions) {
      if (a.kind === 'addAddresses' && a.addresses.length > 0) holders.add(s.router)
      if (a.kind === 'removeAddresses' && a.addresses.length > 0) holders.delete(s.router)
    }
    if (holders.size > 0) held = true
    if (held) assert.ok(holders.size > 0, `nobody holds the VIP after ${s.router}'s ${s.event.kind} at ${s.at} ms`)
    history.push([...holders].sort())
  }
  return history
}

const firstMaster = (steps: LanStep[], router: string, after = 0): LanStep | undefined =>
  steps.find((s) => s.router === router && s.at >= after && s.actions.some((a) => a.kind === 'addAddresses'))
const released = (steps: LanStep[], router: string, after = 0): LanStep | undefined =>
  steps.find((s) => s.router === router && s.at >= after && s.actions.some((a) => a.kind === 'removeAddresses'))
const advertsOf = (s: LanStep): number[] => s.actions.flatMap((a) => (a.kind === 'sendAdvert' ? [a.advert.priority] : []))
const logs = (steps: LanStep[], router: string): string => steps.filter((s) => s.router === router).flatMap((s) => s.actions.flatMap((a) => (a.kind === 'log' ? [a.message] : []))).join('\n')

test('takeover: the backup becomes master at once at 254, the old master releases only after', () => {
  const {steps, routers} = runLan({A: A(), B: B()}, [...settled, takeover('B', 10_000, 60_000, 'restart of A')], 15_000)
  const take = firstMaster(steps, 'B')!
  assert.equal(take.at, 10_000, 'no waiting: the takeover step itself makes B master')
  assert.equal(take.priority, 254)
  // Make-before-break inside the step: addresses, first gratuitous round, then the advert, which
  // the runtime holds until the addresses are in place.
  const kinds = take.actions.map((a) => a.kind)
  assert.ok(kinds.indexOf('addAddresses') < kinds.indexOf('sendAdvert'), kinds.join(','))
  assert.ok(kinds.indexOf('sendGratuitous') < kinds.indexOf('sendAdvert'), kinds.join(','))
  const advert = take.actions.find((a) => a.kind === 'sendAdvert')
  assert.ok(advert?.kind === 'sendAdvert' && advert.afterAddresses === true && advert.advert.priority === 254)
  assert.deepEqual(take.actions.find((a) => a.kind === 'notify'), {kind: 'notify', state: 'MASTER', reason: 'operator takeover: restart of A'})
  const gone = released(steps, 'A')!
  assert.ok(steps.indexOf(gone) > steps.indexOf(take), 'A releases after B added')
  assert.match(logs(steps, 'A'), /higher priority advert \(254, ours 150\) from 198\.18\.240\.2/)
  const history = assertNeverUnheld(steps)
  assert.ok(history.some((h) => h.join() === 'A,B'), 'an overlap, never a gap')
  assert.equal(routers.A!.state, 'Backup')
  assert.equal(routers.B!.state, 'Master')
  assert.equal(status(routers.B!).takeoverUntil, 70_000)
  assert.match(logs(steps, 'B'), /operator takeover: restart of A started for 60 s: priority 100 -> 254/)
})

test('takeover end: B re-advertises its own priority at once; A preempts after its down interval, no gap', () => {
  const {steps, routers} = runLan({A: A(), B: B()}, [...settled, takeover('B', 10_000), end('B', 20_200)], 30_000)
  const ending = steps.find((s) => s.router === 'B' && s.event.kind === 'takeoverEnd')!
  assert.deepEqual(advertsOf(ending), [100], 'the configured priority, told at once')
  assert.equal(ending.state, 'Master', 'still master until the peer takes it back')
  assert.equal(status(routers.B!).takeoverUntil, null)
  // A accepted every 254 advert (resetting its down timer), ignores the 100 one (preempt), and
  // takes over Master_Down_Interval after the last 254 advert.
  const last254 = steps.filter((s) => s.router === 'B' && s.at <= 20_200 && advertsOf(s).includes(254)).at(-1)!
  const back = firstMaster(steps, 'A', 10_001)!
  assert.equal(back.at, last254.at + masterDownUs(2, 150, 1_000_000) / 1000)
  assert.ok(released(steps, 'B', 10_001)!.at >= back.at)
  assertNeverUnheld(steps)
  assert.equal(routers.A!.state, 'Master')
  assert.equal(routers.B!.state, 'Backup')
  assert.equal(routers.B!.effectivePriority, 100)
  assert.match(logs(steps, 'B'), /takeover ended \(operator: peer restarted\): priority 254 -> 100/)
})

test('lease expiry ends the takeover like an explicit end', () => {
  const {steps, routers} = runLan({A: A(), B: B()}, [...settled, takeover('B', 10_000, 5_000)], 25_000)
  const expiry = steps.find((s) => s.router === 'B' && s.event.kind === 'timer' && s.event.timer === 'TakeoverLease')!
  assert.equal(expiry.at, 15_000)
  assert.deepEqual(advertsOf(expiry), [100])
  assert.match(logs(steps, 'B'), /takeover ended \(lease expired\)/)
  assert.ok(firstMaster(steps, 'A', 10_001)!.at > 15_000)
  assertNeverUnheld(steps)
  assert.equal(routers.A!.state, 'Master')
  assert.equal(routers.B!.state, 'Backup')
})

test('a second takeover renews the lease; a takeover on a master re-advertises at once', () => {
  const {steps, routers} = runLan({A: A(), B: B()}, [...settled, takeover('B', 10_000, 5_000), takeover('B', 12_000, 5_000)], 16_000)
  const renew = steps.filter((s) => s.router === 'B' && s.event.kind === 'takeover')[1]!
  assert.deepEqual(advertsOf(renew), [254])
  assert.deepEqual(renew.actions.find((a) => a.kind === 'startTimer' && a.timer === 'TakeoverLease'), {kind: 'startTimer', timer: 'TakeoverLease', deadline: 17_000})
  assert.equal(steps.filter((s) => s.router === 'B' && s.event.kind === 'timer' && s.event.timer === 'TakeoverLease').length, 0, 'the first lease (15 s) did not end it')
  assert.equal(routers.B!.state, 'Master')
  assert.equal(routers.B!.effectivePriority, 254)
  assert.equal(routers.B!.counters.become_master, 1)
  assert.match(logs(steps, 'B'), /renewed for 5 s/)
})

test('a nopreempt peer leaves mastership with us after the takeover ends', () => {
  const {steps, routers} = runLan({A: A({preempt: false}), B: B()}, [...settled, takeover('B', 10_000), end('B', 20_000)], 40_000)
  assert.equal(routers.A!.state, 'Backup')
  assert.equal(routers.B!.state, 'Master')
  assert.equal(routers.B!.effectivePriority, 100)
  assert.equal(firstMaster(steps, 'A', 10_001), undefined)
  assertNeverUnheld(steps)
})

test('trackers do not pull a takeover below 254; the end restores the tracked priority', () => {
  const track = (at: number, up: boolean): LanInput => ({at, router: 'B', event: {kind: 'track', name: 'script:chk', trackKind: 'script', up, weight: -50}})
  const {routers, steps} = runLan({A: A(), B: B()}, [...settled, takeover('B', 10_000), track(11_000, false), end('B', 13_000)], 13_500)
  const tracked = steps.find((s) => s.router === 'B' && s.event.kind === 'track')!
  assert.equal(tracked.priority, 254)
  assert.equal(routers.B!.effectivePriority, 50)
})

test('reload keeps a takeover; shutdown ends it and sends priority 0', () => {
  const {r: reloaded} = drive(B(), [[0, {kind: 'startup'}], [4000, {kind: 'takeover', leaseMs: 30_000}], [5000, {kind: 'reload', config: B({priority: 90})}]])
  assert.equal(reloaded.state, 'Master')
  assert.equal(reloaded.effectivePriority, 254)
  assert.equal(reloaded.takeoverUntil, 34_000)
  const out = step(reloaded, {kind: 'shutdown'}, 6000)
  assert.equal(out.router.takeoverUntil, null)
  assert.deepEqual(out.actions.flatMap((a) => (a.kind === 'sendAdvert' ? [a.advert.priority] : [])), [0])
  assert.ok(out.actions.some((a) => a.kind === 'stopTimer' && a.timer === 'TakeoverLease'))
})

test('Fault refuses a takeover; entering Fault ends one without a last advert at the tracked priority', () => {
  const down = drive(B(), [[0, {kind: 'startup'}], [100, {kind: 'interface', up: false}], [200, {kind: 'takeover', leaseMs: 10_000}]])
  assert.equal(down.r.state, 'Fault')
  assert.equal(down.r.takeoverUntil, null)
  assert.match(JSON.stringify(down.actions.at(-1)), /operator takeover refused in state FAULT/)

  const {r, actions} = drive(B(), [[0, {kind: 'startup'}], [1000, {kind: 'takeover', leaseMs: 10_000}], [2000, {kind: 'interface', up: false}]])
  assert.equal(r.state, 'Fault')
  assert.equal(r.takeoverUntil, null)
  const after = actions.slice(actions.findIndex((a) => a.kind === 'log' && /interface down/.test(a.message)))
  assert.deepEqual(after.flatMap((a) => (a.kind === 'sendAdvert' ? [a.advert.priority] : [])), [0], 'only the priority-0 advert')
  // Back up, it is an ordinary backup again (no 254 left over).
  const up = step(r, {kind: 'interface', up: true}, 3000).router
  assert.equal(up.state, 'Backup')
  assert.equal(up.effectivePriority, 100)
})

test('address owner: its own takeover keeps 255; a backup behind an owner refuses', () => {
  const owner = drive(A({priority: 255}), [[0, {kind: 'startup'}], [100, {kind: 'takeover', leaseMs: 10_000}]])
  assert.equal(owner.r.state, 'Master')
  assert.equal(owner.r.effectivePriority, 255)
  assert.match(JSON.stringify(owner.actions), /address owner, priority stays 255/)

  const {steps, routers} = runLan({A: A({priority: 255}), B: B()}, [...settled, takeover('B', 5000)], 8000)
  assert.equal(routers.B!.state, 'Backup')
  assert.equal(routers.B!.takeoverUntil, null)
  assert.equal(firstMaster(steps, 'B'), undefined)
  assert.match(logs(steps, 'B'), /refused: the master 198\.18\.240\.1 is the address owner/)
})

test('sync group: the takeover reaches every member; both VRIDs move with no gap and stay', () => {
  assert.deepEqual(withSyncGroupMembers(['B1'], [{instances: ['B2', 'B1']}, {instances: ['X']}]), ['B1', 'B2'])
  assert.deepEqual(withSyncGroupMembers(['X', 'B2'], [{instances: ['B1', 'B2']}]), ['X', 'B2', 'B1'])
  const v2 = {vrid: 52, addresses: ['198.18.240.101']}
  const configs = {
    A1: A({name: 'A1'}),
    A2: A({name: 'A2', ...v2}),
    B1: B({name: 'B1'}),
    B2: B({name: 'B2', ...v2}),
  }
  const syncGroups = {GA: ['A1', 'A2'], GB: ['B1', 'B2']}
  // As VrrpService feeds it: both members of B's group, in one go.
  const inputs = [start('A1'), start('A2'), start('B1'), start('B2'), takeover('B1', 10_000), takeover('B2', 10_000), end('B1', 20_000), end('B2', 20_000)]
  const mid = runLan(configs, inputs, 19_000, 0, {syncGroups})
  for (const [r, state] of [['A1', 'Backup'], ['A2', 'Backup'], ['B1', 'Master'], ['B2', 'Master']] as const) assert.equal(mid.routers[r]!.state, state, r)
  assert.equal(mid.routers.B2!.effectivePriority, 254)
  for (const pair of [['A1', 'B1'], ['A2', 'B2']]) assertNeverUnheld(mid.steps.filter((s) => pair.includes(s.router)))
  // After the end, A's group preempts back, both members.
  const done = runLan(configs, inputs, 30_000, 0, {syncGroups})
  for (const [r, state] of [['A1', 'Master'], ['A2', 'Master'], ['B1', 'Backup'], ['B2', 'Backup']] as const) assert.equal(done.routers[r]!.state, state, r)
  for (const pair of [['A1', 'B1'], ['A2', 'B2']]) assertNeverUnheld(done.steps.filter((s) => pair.includes(s.router)))
})
