import {test} from 'node:test'
import assert from 'node:assert/strict'
import {directorWaves, orderDirectors} from '../../src/apply/host-order.js'
import {evaluateGate, parseGateProbe, type GateObservation} from '../../src/apply/gate.js'
import {isReleaseId, makeReleaseId, releasesToPrune, releaseTime, rollbackTarget} from '../../src/apply/release-id.js'
import {formatHolder, isStaleHere, lockedError, parseHolder, parseLockOutput} from '../../src/apply/lock.js'
import {buildManifest} from '../../src/apply/manifest.js'
import {parseInspection, parseInstallOutput} from '../../src/apply/host-scripts.js'
import {pickRenderer} from '../../src/apply/progress.js'
import {shouldAsk} from '../../src/apply/confirm.js'
import {ExitCode} from '../../src/model/exit-codes.js'
import type {DesiredHost} from '../../src/model/desired-state.js'
import type {KaopsdStatus} from '../../src/model/kaopsd-status.js'
import {director} from './plan-fixtures.js'

const addr = (ifname: string, cidr: string) => ({ifname, cidr, family: 'inet' as const})
const withVips = (d: DesiredHost, vips: Array<[string, string, string]>): DesiredHost => ({...d, vips: vips.map(([instance, a, m], i) => ({instance, vrid: 50 + i, addresses: [a], expectedMaster: m}))})

test('directors: current backups before current masters, unknown state last, inventory order otherwise', () => {
  const d1 = director('dir1', '198.18.0.11', 150)
  const d2 = director('dir2', '198.18.0.12', 100)
  const d3 = withVips(director('dir3', '198.18.0.13', 100), [['VI_2', '198.18.0.101/24', 'dir3']])
  const held: Record<string, ReturnType<typeof addr>[] | undefined> = {
    dir1: [addr('eth0', '198.18.0.11/24'), addr('eth0', '198.18.0.100/24')],
    dir2: [addr('eth0', '198.18.0.12/24'), addr('lo', '198.18.0.100/32')], // on lo does not count
    dir3: undefined,
  }
  assert.deepEqual(orderDirectors([d1, d2, d3], (n) => held[n]).map((d) => d.name), ['dir2', 'dir1', 'dir3'])
  // dir2 then dir1 share VI_1: never in one wave; dir3 (VI_2 only) may join dir1's wave.
  assert.deepEqual(directorWaves([d2, d1, d3], 10).map((w) => w.map((d) => d.name)), [['dir2'], ['dir1', 'dir3']])
  assert.deepEqual(directorWaves([d2, d1, d3], 1).map((w) => w.map((d) => d.name)), [['dir2'], ['dir1'], ['dir3']])
})

const status = (states: Array<[string, string]>): KaopsdStatus =>
  ({format_version: 1, version: 't', pid: 1, uptimeSeconds: 1, configPath: '/x', configHash: 'h', release: null, virtualServers: [], instances: states.map(([name, state]) => ({name, state}))}) as unknown as KaopsdStatus

test('gate: healthy only when active, converged and every VIP held exactly once where the plan says', () => {
  const vips = [{instance: 'VI_1', vrid: 51, addresses: ['198.18.0.100/24'], expectedMaster: 'dir1'}]
  const obs = (o: Partial<GateObservation> & {host: string}): GateObservation => ({active: 'active', addresses: [], status: status([['VI_1', 'BACKUP']]), ...o})
  const vipOn = [addr('eth0', '198.18.0.100/24')]
  const ok = evaluateGate('dir2', vips, [obs({host: 'dir1', addresses: vipOn, status: status([['VI_1', 'MASTER']])}), obs({host: 'dir2'})], 'plan')
  assert.equal(ok.ok, true, ok.problems.join('; '))
  assert.deepEqual(ok.holders, {VI_1: ['dir1']})

  const split = evaluateGate('dir2', vips, [obs({host: 'dir1', addresses: vipOn}), obs({host: 'dir2', addresses: vipOn})], 'any')
  assert.match(split.problems.join(), /held by dir1 and dir2 at once/)
  const none = evaluateGate('dir2', vips, [obs({host: 'dir1'}), obs({host: 'dir2'})], 'any')
  assert.match(none.problems.join(), /held by no director/)
  const init = evaluateGate('dir2', vips, [obs({host: 'dir1', addresses: vipOn}), obs({host: 'dir2', status: status([['VI_1', 'INIT']])})], 'plan')
  assert.match(init.problems.join(), /dir2: instance VI_1 is INIT/)
  const misplaced = evaluateGate('dir1', vips, [obs({host: 'dir1'}), obs({host: 'dir2', addresses: vipOn})], 'plan')
  assert.match(misplaced.problems.join(), /held by dir2, the plan expects dir1/)
  assert.equal(evaluateGate('dir1', vips, [obs({host: 'dir1'}), obs({host: 'dir2', addresses: vipOn})], 'any').ok, true)
  const dead = evaluateGate('dir2', vips, [obs({host: 'dir1', addresses: vipOn}), obs({host: 'dir2', active: 'failed', status: undefined})], 'plan')
  assert.match(dead.problems.join(), /kaopsd is failed, not active/)
  assert.match(dead.problems.join(), /did not answer/)
})

test('gate probe output parses; truncated output is an error', () => {
  const ip = Buffer.from(JSON.stringify([{ifname: 'eth0', addr_info: [{family: 'inet', local: '198.18.0.100', prefixlen: 24}]}])).toString('base64')
  const st = Buffer.from(JSON.stringify(status([['VI_1', 'MASTER']]))).toString('base64')
  const o = parseGateProbe('dir1', `U active\nA ${ip}\nST ${st}\nEND\n`)
  assert.equal(o.active, 'active')
  assert.deepEqual(o.addresses, [addr('eth0', '198.18.0.100/24')])
  assert.equal(o.status?.instances[0]?.state, 'MASTER')
  assert.match(parseGateProbe('dir1', 'U active\n').error ?? '', /truncated/)
})

test('release ids sort by time; pruning keeps the newest N and always the current one', () => {
  const id = makeReleaseId(new Date('2025-01-02T03:04:05.678Z'), 'abcdef0123456789')
  assert.equal(id, '20250102T030405Z-abcdef01')
  assert.equal(isReleaseId(id), true)
  assert.equal(releaseTime(id)?.toISOString(), '2025-01-02T03:04:05.000Z')
  const ids = ['20250101T000000Z-00000001', '20250102T000000Z-00000002', '20250103T000000Z-00000003', '20250104T000000Z-00000004', 'operator-notes', 'x.partial']
  assert.deepEqual(releasesToPrune(ids, '20250104T000000Z-00000004', 2), ['20250101T000000Z-00000001', '20250102T000000Z-00000002'])
  // Rolled back to the oldest: it stays, plus the newest.
  assert.deepEqual(releasesToPrune(ids, '20250101T000000Z-00000001', 2), ['20250102T000000Z-00000002', '20250103T000000Z-00000003'])
  assert.deepEqual(releasesToPrune(ids, null, 5), [])
  assert.throws(() => releasesToPrune(ids, null, 0), /positive integer/)
  assert.deepEqual(rollbackTarget(ids, '20250103T000000Z-00000003'), {id: '20250102T000000Z-00000002'})
  assert.deepEqual(rollbackTarget(ids, '20250103T000000Z-00000003', '20250101T000000Z-00000001'), {id: '20250101T000000Z-00000001'})
  assert.match((rollbackTarget(ids, '20250101T000000Z-00000001') as {error: string}).error, /no release older/)
  assert.match((rollbackTarget(ids, null) as {error: string}).error, /no current release/)
  assert.match((rollbackTarget(ids, null, 'nope') as {error: string}).error, /release nope does not exist/)
})

test('manifest: same content, same hash part of the id; the binary only on directors', () => {
  const d = director('dir1', '198.18.0.11', 150)
  const a = buildManifest(d, {now: new Date('2025-01-01T00:00:00Z'), createdBy: 'op@m', kaopsd: {sha256: 'a'.repeat(64)}, inventoryRevision: 'abc+dirty'})
  const b = buildManifest(d, {now: new Date('2025-01-01T00:00:09Z'), createdBy: 'op@m', kaopsd: {sha256: 'a'.repeat(64)}})
  assert.equal(a.id.split('-')[1], b.id.split('-')[1])
  assert.notEqual(a.id, b.id)
  assert.equal(a.files.length, d.files.length)
  assert.equal(a.files.find((f) => f.path === '/etc/kaops/keepalived.conf')!.mode, '0600')
  assert.equal(a.inventory_revision, 'abc+dirty')
  const rs = buildManifest({...d, roles: ['real-server']}, {now: new Date(), createdBy: 'x', kaopsd: {sha256: 'a'.repeat(64)}})
  assert.equal(rs.kaopsd, null)
})

test('lock: holder line round-trips, the message names the holder, stale only when its kaops is gone', () => {
  const line = formatHolder({user: 'alice', machine: 'ops1', pid: 4242, since: '2025-01-01T00:00:00.000Z', op: 'apply', run: 'beef'})
  assert.deepEqual(parseHolder(line), {user: 'alice', machine: 'ops1', pid: 4242, since: '2025-01-01T00:00:00.000Z', op: 'apply', run: 'beef'})
  assert.deepEqual(parseLockOutput('TAKEN\n'), {taken: true})
  assert.deepEqual(parseLockOutput(`HELD\n${line}\n`), {taken: false, holder: line})
  const e = lockedError('dir1', line)
  assert.equal(e.exit, ExitCode.locked)
  assert.match(e.message, /host dir1 is locked by another kaops operation: alice@ops1 pid=4242/)
  assert.match(e.suggestions.join(), /rm -rf \/var\/lib\/kaops\/lock/)
  assert.equal(isStaleHere(line, 'ops2', () => false), false, 'another machine: never stale')
  assert.equal(isStaleHere(line, 'ops1', () => true, 1), false, 'its pid still runs')
  assert.equal(isStaleHere(line, 'ops1', () => false, 1), true, 'its pid is gone')
  assert.equal(isStaleHere(line, 'ops1', () => true, 4242, new Set(['beef'])), false, 'this process, rollout still running')
  assert.equal(isStaleHere(line, 'ops1', () => true, 4242, new Set()), true, 'this process, rollout over')
})

test('host script outputs parse', () => {
  const m = Buffer.from('{"x":1}').toString('base64')
  assert.deepEqual(parseInspection(`CUR 20250101T000000Z-00000001\nKS ${'b'.repeat(64)}\nCM ${m}\nIDS 20250101T000000Z-00000001 x.partial \nEND\n`), {
    current: '20250101T000000Z-00000001',
    currentKaopsdSha: 'b'.repeat(64),
    currentManifestText: '{"x":1}',
    entries: ['20250101T000000Z-00000001', 'x.partial'],
  })
  assert.deepEqual(parseInspection('CUR -\nKS -\nCM -\nIDS \nEND\n').current, null)
  assert.throws(() => parseInspection('CUR -\n'), /truncated/)
  assert.deepEqual(parseInstallOutput('CHANGED /a\nDELETED /b\nEND\n'), {changed: ['/a'], deleted: ['/b']})
})

test('renderer and question: silent under --json, plain lines without a TTY or in CI, ask only on a TTY', () => {
  assert.equal(pickRenderer({json: true, isTTY: true, ci: false}), 'silent')
  assert.equal(pickRenderer({json: false, isTTY: false, ci: false}), 'simple')
  assert.equal(pickRenderer({json: false, isTTY: true, ci: true}), 'simple')
  assert.equal(pickRenderer({json: false, isTTY: true, ci: false}), 'default')
  assert.equal(shouldAsk({yes: false, json: false, stdinTTY: true, stdoutTTY: true}), true)
  assert.equal(shouldAsk({yes: true, json: false, stdinTTY: true, stdoutTTY: true}), false)
  assert.equal(shouldAsk({yes: false, json: false, stdinTTY: false, stdoutTTY: true}), false)
})
