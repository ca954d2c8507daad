import {test} from 'node:test'
import assert from 'node:assert/strict'
import {computePlan} from '../../src/plan/compute.js'
import {isPlanStale, staleHosts} from '../../src/plan/fingerprint.js'
import {formatPlanHuman} from '../../src/plan/format-human.js'
import {formatPlanJson} from '../../src/plan/format-json.js'
import {KAOPSD_SHA, SECRET, actualMap, convergedActual, desiredLab, freshActual, keepalivedConf, sha} from './plan-fixtures.js'

const kaopsd = {sha256: KAOPSD_SHA, version: 'kaopsd 0.1.0'}
const now = new Date('2025-01-01T00:00:00Z')

test('a fresh host plans every resource as create', () => {
  const desired = desiredLab()
  const plan = computePlan(desired, actualMap(desired, freshActual), {kaopsd, now})
  assert.equal(plan.format_version, 1)
  assert.equal(plan.has_changes, true)
  for (const h of plan.hosts) {
    const actions = new Set(h.changes.map((c) => c.action))
    assert.deepEqual([...actions], ['create'], `${h.host}: ${JSON.stringify(h.changes.map((c) => [c.kind, c.id, c.action]))}`)
  }
  const dir1 = plan.hosts.find((h) => h.host === 'dir1')!
  assert.deepEqual(
    [...new Set(dir1.changes.map((c) => c.kind))].sort(),
    ['binary', 'file', 'firewall', 'sysctl', 'unit'],
  )
  const web1 = plan.hosts.find((h) => h.host === 'web1')!
  assert.ok(web1.changes.some((c) => c.kind === 'loopback-vip' && c.id === '198.18.0.100/32'))
  assert.ok(!web1.changes.some((c) => c.kind === 'binary'), 'real servers get no kaopsd')
  // Nobody holds the VIP yet: it "moves" from nobody to dir1; both daemons start.
  assert.deepEqual(plan.vrrp.vipMoves, [{instance: 'VI_1', vrid: 51, addresses: ['198.18.0.100/24'], from: [], to: 'dir1'}])
  assert.deepEqual(plan.vrrp.daemons.map((d) => [d.host, d.action]), [['dir1', 'start'], ['dir2', 'start']])
})

test('a converged lab plans no changes', () => {
  const desired = desiredLab()
  const plan = computePlan(desired, actualMap(desired, convergedActual), {kaopsd, now})
  assert.equal(plan.has_changes, false)
  assert.deepEqual(plan.vrrp, {vipMoves: [], daemons: []})
  assert.match(formatPlanHuman(plan), /No changes\./)
})

test('one sysctl drift shows exactly that, as an update', () => {
  const desired = desiredLab()
  const actual = actualMap(desired, convergedActual)
  ;(actual.get('dir2') as ReturnType<typeof convergedActual>).sysctl[0]!.value = '0'
  const plan = computePlan(desired, actual, {kaopsd, now})
  const changed = plan.hosts.flatMap((h) => h.changes.filter((c) => c.action !== 'no-op').map((c) => ({host: h.host, ...c})))
  assert.equal(changed.length, 1)
  assert.equal(changed[0]!.host, 'dir2')
  assert.equal(changed[0]!.kind, 'sysctl')
  assert.equal(changed[0]!.action, 'update')
  assert.deepEqual([changed[0]!.before, changed[0]!.after], [{value: '0'}, {value: '1'}])
  assert.deepEqual(plan.vrrp.daemons, [], 'a sysctl change reloads no daemon')
})

test('a file touched by hand shows a unified diff of the edit and a reload', () => {
  const desired = desiredLab()
  const actual = actualMap(desired, convergedActual)
  const a = actual.get('dir1') as ReturnType<typeof convergedActual>
  const touched = keepalivedConf(150).replace('priority 150', 'priority 200')
  Object.assign(a.files[0]!, {content: touched, sha256: sha(touched)})
  const plan = computePlan(desired, actual, {kaopsd, now})
  const c = plan.hosts.find((h) => h.host === 'dir1')!.changes.find((x) => x.id === '/etc/kaops/keepalived.conf')!
  assert.equal(c.action, 'update')
  assert.match(c.diff!, /^-    priority 200$/m)
  assert.match(c.diff!, /^\+    priority 150$/m)
  assert.match(c.diff!, /^--- a\/etc\/kaops\/keepalived.conf/m)
  assert.deepEqual(plan.vrrp.daemons.map((d) => [d.host, d.action]), [['dir1', 'reload']])
})

test('secrets are redacted from diffs, old and new, and from every output', () => {
  const desired = desiredLab()
  const actual = actualMap(desired, convergedActual)
  const a = actual.get('dir1') as ReturnType<typeof convergedActual>
  const old = keepalivedConf(150, 'old-Pa55word')
  Object.assign(a.files[0]!, {content: old, sha256: sha(old)})
  const fresh = computePlan(desired, actualMap(desired, freshActual), {kaopsd, now})
  const plan = computePlan(desired, actual, {kaopsd, now})
  const c = plan.hosts[0]!.changes.find((x) => x.id === '/etc/kaops/keepalived.conf')!
  assert.equal(c.action, 'update')
  assert.match(c.reason!, /only secret values differ/)
  for (const p of [plan, fresh]) {
    for (const text of [formatPlanHuman(p, {colour: true, verbose: true}), formatPlanJson(p)]) {
      assert.ok(!text.includes(SECRET), 'new secret leaked')
      assert.ok(!text.includes('old-Pa55word'), 'old secret leaked')
    }
  }
  const created = fresh.hosts[0]!.changes.find((x) => x.id === '/etc/kaops/keepalived.conf')!
  assert.match(created.diff!, /^\+        auth_pass <redacted>$/m)
})

test('a managed file no longer in the inventory is deleted', () => {
  const desired = desiredLab()
  const actual = actualMap(desired, convergedActual)
  const a = actual.get('web1') as ReturnType<typeof convergedActual>
  a.files.push({path: '/etc/kaops/old-notify.sh', exists: true, sha256: sha('#!/bin/sh\n'), mode: 0o755, size: 10, content: '#!/bin/sh\n'})
  a.managedPaths.push('/etc/kaops/old-notify.sh')
  // An unmanaged file the probe happens to report is never deleted.
  a.files.push({path: '/etc/motd', exists: true, sha256: sha('hi\n'), mode: 0o644, size: 3})
  const plan = computePlan(desired, actual, {kaopsd, now})
  const del = plan.hosts.find((h) => h.host === 'web1')!.changes.filter((x) => x.action === 'delete')
  assert.deepEqual(del.map((x) => [x.kind, x.id]), [['file', '/etc/kaops/old-notify.sh']])
  assert.equal(del[0]!.after, null)
  assert.match(del[0]!.diff!, /^\+\+\+ \/dev\/null/m)
})

test('a VIP held by the wrong director is reported as moving; a stray lo VIP is deleted', () => {
  const desired = desiredLab()
  const actual = actualMap(desired, convergedActual)
  const d1 = actual.get('dir1') as ReturnType<typeof convergedActual>
  const d2 = actual.get('dir2') as ReturnType<typeof convergedActual>
  d1.addresses = d1.addresses.filter((x) => !x.cidr.startsWith('198.18.0.100'))
  d2.addresses.push({ifname: 'eth0', cidr: '198.18.0.100/24', family: 'inet'})
  d2.addresses.push({ifname: 'lo', cidr: '198.18.0.100/32', family: 'inet'})
  const plan = computePlan(desired, actual, {kaopsd, now})
  assert.deepEqual(plan.vrrp.vipMoves, [{instance: 'VI_1', vrid: 51, addresses: ['198.18.0.100/24'], from: ['dir2'], to: 'dir1'}])
  const lo = plan.hosts.find((h) => h.host === 'dir2')!.changes.find((c) => c.kind === 'loopback-vip')!
  assert.equal(lo.action, 'delete')
  assert.match(formatPlanHuman(plan), /VIP VI_1 \(vrid 51, 198\.18\.0\.100\/24\): dir2 -> dir1/)
})

test('a binary change restarts the daemon; an unreachable host is an error, the rest still planned', () => {
  const desired = desiredLab()
  const actual = actualMap(desired, convergedActual)
  actual.set('web1', new Error('host web1 (root@198.18.0.21:22): unreachable: ECONNREFUSED'))
  const plan = computePlan(desired, actual, {kaopsd: {sha256: sha('kaopsd-binary-v2'), version: 'kaopsd 0.2.0'}, now})
  assert.deepEqual(plan.hosts.map((h) => h.host), ['dir1', 'dir2'])
  assert.deepEqual(plan.errors, [{host: 'web1', message: 'host web1 (root@198.18.0.21:22): unreachable: ECONNREFUSED'}])
  assert.deepEqual(plan.vrrp.daemons.map((d) => [d.host, d.action]), [['dir1', 'restart'], ['dir2', 'restart']])
  assert.match(formatPlanHuman(plan), /error: host web1 .*ECONNREFUSED/)
})

test('a plan is stale once a host it was computed against changes', () => {
  const desired = desiredLab()
  const actual = actualMap(desired, convergedActual)
  const plan = computePlan(desired, actual, {kaopsd, now})
  assert.equal(isPlanStale(plan, actualMap(desired, convergedActual)), false)
  const later = actualMap(desired, convergedActual)
  ;(later.get('web1') as ReturnType<typeof convergedActual>).sysctl[0]!.value = '0'
  assert.equal(isPlanStale(plan, later), true)
  assert.deepEqual(staleHosts(plan, later).map((s) => s.host), ['web1'])
  // Volatile status does not make a plan stale.
  const status = actualMap(desired, convergedActual)
  ;(status.get('dir1') as ReturnType<typeof convergedActual>).kaopsdStatus = {uptime: 42}
  assert.equal(isPlanStale(plan, status), false)
})
