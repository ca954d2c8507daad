// Three directors on one VIP (priorities 150/120/100, a track script on the VIP), on the file's
// own lab (three-directors.inventory.yaml: bridge kaops-tri0, 198.18.90.0/24): apply, verify and
// the failover drill with more than one backup. The drill's track fault runs here for real: each
// director gets the track script in its root before the first apply, and the drill swaps it for
// one that fails. The tests build on each other in order over one lab torn down at the end.
import {after, before, test, type TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {parse, stringify} from 'yaml'
import {runApply} from '../../src/apply/run-apply.js'
import {inventoryModules, type InventoryModules} from '../../src/apply/inventory-modules.js'
import type {RolloutResult} from '../../src/apply/rollout.js'
import {labPaths, netnsName} from '../../src/lab/paths.js'
import {rootDir} from '../../src/lab/rootfs.js'
import type {CheckResult, DrillReport} from '../../src/model/verify.js'
import {runDrillCommand} from '../../src/verify/drill-command.js'
import {verifyInventory} from '../../src/verify/run-verify.js'
import {ownLab} from './helpers/own-lab.js'
import {startVipProbe, vipServesHttp} from './helpers/vip-probe.js'
import {vipHolders as vipHoldersOf} from './helpers/lab-hosts.js'

const INVENTORY = join(import.meta.dirname, 'three-directors.inventory.yaml')
const VIP = '198.18.90.100'
const DIRECTORS = ['tdir1', 'tdir2', 'tdir3']
const CLIENT_NS = netnsName('tclient')
/** The inventory's track script (an absolute path, so the drill's track fault can swap it). */
const TRACK_SCRIPT = '/usr/local/sbin/kaops-lab-healthy'

const lab = ownLab(INVENTORY, {name: 'three-directors', needsKaopsd: true})
let mods: InventoryModules

before(async () => {
  await lab.up()
  if (lab.skip) return
  mods = await inventoryModules()
  // kaopsd's config test refuses a track script that does not exist, so it must be there before
  // the first apply. Written from this machine into the hosts' roots (root-owned, not writable by
  // others, as enable_script_security wants).
  for (const d of DIRECTORS) {
    const file = join(rootDir(labPaths().hostDir(d)), TRACK_SCRIPT)
    await mkdir(join(file, '..'), {recursive: true})
    await writeFile(file, '#!/bin/sh\n# kaops lab: the VIP is healthy here (the drill swaps this for a failing script).\nexit 0\n', {mode: 0o755})
  }
})
after(() => lab.down())

const skipped = (t: TestContext): boolean => {
  if (lab.skip) t.skip(lab.skip)
  return lab.skip !== undefined
}

const vipHolders = () => vipHoldersOf(DIRECTORS, VIP)

/** Wait (bounded) until exactly `who` holds the VIP; the holders last seen. */
async function settleOn(who: string, timeoutMs = 15_000): Promise<string[]> {
  const end = Date.now() + timeoutMs
  let now = await vipHolders()
  while (!(now.length === 1 && now[0] === who) && Date.now() < end) {
    await sleep(250)
    now = await vipHolders()
  }
  return now
}

const describe = (r: RolloutResult | undefined) => JSON.stringify(r?.hosts.map((h) => ({host: h.host, state: h.state, error: h.error, notes: h.notes})), null, 1)

/** verify with every check printed; the failing ones returned for the assertion. */
async function verifyFailures(t: TestContext, inventory: string): Promise<string[]> {
  const {report} = await verifyInventory(inventory, {statusGapSeconds: 2})
  for (const c of report.checks) t.diagnostic(`${c.status} ${c.id} ${c.subject}: ${c.message}`)
  return report.checks.filter((c: CheckResult) => c.status === 'fail').map((c) => `${c.id} ${c.subject}: ${c.message}`)
}

// ---- the tests, in order ----

test('apply to three directors: one VIP holder, the highest priority; verify passes', async (t) => {
  if (skipped(t)) return
  const first = await runApply(INVENTORY, mods, {parallel: 4})
  assert.ok(first.result, 'the first apply had changes')
  assert.equal(first.result.ok, true, describe(first.result))
  for (const h of first.result.hosts) assert.equal(h.state, 'done', h.host)
  assert.deepEqual(await settleOn('tdir1', 5000), ['tdir1'], 'exactly tdir1 (priority 150) holds the VIP')
  // kaopsd's checkers bring the real servers in after delay_loop (3 s): wait for the service.
  assert.ok(await vipServesHttp(CLIENT_NS, VIP), 'the VIP serves HTTP from the client')
  assert.deepEqual(await verifyFailures(t, INVENTORY), [])
})

test('failover drill with graceful and track faults: each within its bound, the VIP goes to tdir2, the cluster is restored', async (t) => {
  if (skipped(t)) return
  let out = ''
  const ok = await runDrillCommand(INVENTORY, {json: true, faults: ['graceful', 'track'], toleranceMs: 50, out: (s) => (out += s), err: (s) => t.diagnostic(s.trimEnd())})
  const report = JSON.parse(out) as DrillReport
  assert.deepEqual(report.results.map((r) => r.fault), ['graceful', 'track'])
  for (const r of report.results) {
    t.diagnostic(`${r.fault}: ${r.takeover.from} -> ${r.takeover.to}, advert ${r.takeover.firstAdvertMs} ms (bound ${r.takeover.boundMs}), outage ${r.takeover.outage.durationMs} ms; ${r.takeover.reasons.join('; ')}; failback ${r.failback.message}; ${r.restored.message}`)
    // The election as the capture saw it: every advert from the fault until the new master's second one.
    const adverts = r.events.filter((e) => e.kind === 'advert' && e.t >= (r.takeover.t0 ?? 0) - 1).slice(0, 8)
    t.diagnostic(`${r.fault} adverts: ${adverts.map((e) => (e.kind === 'advert' ? `+${(e.t - (r.takeover.t0 ?? 0)).toFixed(0)} ms ${e.src} prio ${e.priority}` : '')).join(', ')}`)
    assert.equal(r.master, 'tdir1', r.fault)
    assert.equal(r.takeover.verdict, 'PASS', `${r.fault}: ${r.takeover.reasons.join('; ')}`)
    assert.ok(r.takeover.firstAdvertMs !== null && r.takeover.firstAdvertMs <= r.takeover.boundMs + 50, `${r.fault}: first advert ${r.takeover.firstAdvertMs} ms, bound ${r.takeover.boundMs} ms`)
    // With two backups the next priority (tdir2, 120) wins the election, not tdir3 (100).
    assert.equal(r.takeover.to, 'tdir2', `${r.fault}: the VIP went to ${r.takeover.to}`)
    assert.equal(r.failback.verdict, 'PASS', `${r.fault}: ${r.failback.message}`)
    assert.ok(r.restored.ok, `${r.fault}: ${r.restored.message}`)
  }
  assert.equal(ok, true, 'the drill command reports success')
  assert.deepEqual(await settleOn('tdir1'), ['tdir1'], 'after the drill tdir1 holds the VIP alone')
  // The track fault's swap was undone: the script on tdir1 is the one we wrote.
  assert.match(await readFile(join(rootDir(labPaths().hostDir('tdir1')), TRACK_SCRIPT), 'utf8'), /exit 0/)
})

test('a config-only change of priorities moves the VIP to tdir2 without a failed request; verify passes', async (t) => {
  if (skipped(t)) return
  const inv = parse(await readFile(INVENTORY, 'utf8')) as Record<string, any>
  inv['vips'][0]['priorities'] = {tdir1: 110, tdir2: 150, tdir3: 100}
  const next = join(lab.tmp, 'tdir2-master.yaml')
  await writeFile(next, stringify(inv))
  const kind = (await vipServesHttp(CLIENT_NS, VIP)) ? 'http' : 'ping'
  const probe = startVipProbe(CLIENT_NS, VIP, kind)
  await sleep(300)
  const [outcome, counts] = await runApply(next, mods, {parallel: 4}).then(
    async (o) => {
      // The move itself may finish after apply returns (tdir2 preempts after its master-down interval).
      const holders = await settleOn('tdir2')
      await sleep(1000)
      return [{o, holders}, await probe.stop()] as const
    },
    async (error: unknown) => {
      await probe.stop().catch(() => undefined)
      throw error
    },
  )
  t.diagnostic(`${kind} probe during the change: ${counts.sent} sent, ${counts.received} answered; ${describe(outcome.o.result)}`)
  assert.equal(outcome.o.result?.ok, true, describe(outcome.o.result))
  // tdir3's priority stays 100: its configuration is unchanged, so the rollout leaves it alone.
  assert.deepEqual(outcome.o.result.hosts.filter((h) => h.state === 'done').map((h) => h.host).sort(), ['tdir1', 'tdir2'])
  assert.deepEqual(outcome.holders, ['tdir2'], 'tdir2 (now priority 150) holds the VIP alone')
  assert.ok(counts.sent > 50, `the probe ran (${counts.sent} sent)`)
  assert.equal(counts.sent - counts.received, 0, `${kind}: ${counts.sent - counts.received} of ${counts.sent} failed`)
  assert.deepEqual(await verifyFailures(t, next), [])
})
