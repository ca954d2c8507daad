// The drill ALWAYS undoes its fault and stops what it started: after an error in a step, after
// Ctrl-C (an aborted signal), and it says whether the cluster is back. Hosts are faked: each
// script is recorded and answered like the real host would.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {loadInventory} from '../../src/inventory/load.js'
import {drillOne, type Ctx, type HostRunner} from '../../src/verify/drill-run.js'
import {faultPlan} from '../../src/verify/drill-scripts.js'
import {loadDrillPlaybook} from '../../src/verify/drill-playbook.js'
import {writePcap} from '../../src/verify/pcap.js'

class FakeHosts implements HostRunner {
  log: Array<{host: string; what: string}> = []
  holder = 'dir1'
  kaopsdActive: Record<string, boolean> = {dir1: true, dir2: true}
  failOn?: RegExp
  constructor(private readonly onInject?: () => void) {}
  async run(host: string, script: string): Promise<string> {
    const what = /systemctl stop kaopsd/.test(script) ? 'inject' : /systemctl start kaopsd/.test(script) ? 'restore' : /kill -INT/.test(script) ? 'stop' : /for f in .*pid/.test(script) ? 'cleanup' : /HOLDS/.test(script) ? 'holds' : /is-active/.test(script) ? 'is-active' : /setsid/.test(script) ? 'start' : 'other'
    this.log.push({host, what})
    if (this.failOn?.test(script)) throw new Error('boom: tcpdump missing')
    if (what === 'inject') {
      this.kaopsdActive[host] = false
      this.holder = 'dir2'
      this.onInject?.()
    }
    if (what === 'restore') {
      this.kaopsdActive[host] = true
      this.holder = 'dir1'
    }
    if (what === 'holds') return this.holder === host ? 'HOLDS\n' : 'FREE\n'
    if (what === 'is-active') return this.kaopsdActive[host] ? 'active\n' : 'inactive\n'
    if (what === 'stop') return /\.capture\./.test(script) ? `DATA ${writePcap([]).toString('base64')}\n` : 'DATA -\n'
    return 'T 1800000000000\n'
  }
}

async function ctx(hosts: HostRunner, signal?: AbortSignal): Promise<Ctx> {
  const inv = await loadInventory('inventories/lab.yaml')
  const vip = inv.vips[0]!
  return {
    inv, vip, fault: 'graceful', master: 'dir1', backups: ['dir2'], probeHost: 'client', captureHost: 'dir2', address: '198.18.0.100', port: 80, tag: 't',
    plan: faultPlan('graceful', {iface: 'eth0', linkDownSeconds: 9, tag: 't'}), toleranceMs: 50, s: hosts, signal, progress: () => undefined, healthy: async () => undefined,
  }
}

const fastSteps = async () => (await loadDrillPlaybook()).map((s) => (s.action === 'wait' ? {...s, params: {ms: 1}} : s))

test('a full drill on fake hosts: fault injected once, restored once, every helper stopped', async () => {
  const hosts = new FakeHosts()
  const r = await drillOne(await ctx(hosts), await fastSteps())
  const count = (w: string) => hosts.log.filter((l) => l.what === w).length
  assert.equal(count('inject'), 1)
  assert.equal(count('restore'), 1)
  assert.equal(count('start'), 4) // address monitor x2, capture, probe
  assert.equal(count('stop'), 4)
  assert.ok(r.restored.ok, r.restored.message)
})

test('Ctrl-C right after the fault: the fault is undone, helpers stopped, and the error says restored', async () => {
  const ac = new AbortController()
  const hosts = new FakeHosts(() => setImmediate(() => ac.abort()))
  hosts.holder = 'dir1'
  const c = await ctx(hosts, ac.signal)
  // Make takeover slow so the abort lands while waiting.
  const steps = (await fastSteps()).map((s) => (s.action === 'wait-takeover' ? {...s, params: {timeout_ms: 5000}} : s))
  hosts.run = ((orig) => async (h: string, sc: string) => {
    const out = await orig.call(hosts, h, sc)
    return /HOLDS/.test(sc) && hosts.log.filter((l) => l.what === 'restore').length === 0 ? 'FREE\n' : out
  })(hosts.run)
  await assert.rejects(drillOne(c, steps), /drill VI_1\/graceful stopped: interrupted\. Cluster: restored \(VIP on dir1; kaopsd active on every director\)/)
  assert.equal(hosts.log.filter((l) => l.what === 'restore').length, 1)
  assert.equal(hosts.log.filter((l) => l.what === 'stop').length, 4)
  assert.ok(hosts.log.some((l) => l.what === 'cleanup'))
})

test('an error before the fault leaves nothing running and is reported as is', async () => {
  const hosts = new FakeHosts()
  hosts.failOn = /tcpdump/
  await assert.rejects(drillOne(await ctx(hosts), await fastSteps()), /boom: tcpdump missing/)
  assert.equal(hosts.log.filter((l) => l.what === 'inject').length, 0)
  assert.equal(hosts.log.filter((l) => l.what === 'restore').length, 0)
  assert.equal(hosts.log.filter((l) => l.what === 'stop').length, 2) // the two address monitors started before
})

test('a restore that does not bring the cluster back is said plainly', async () => {
  const hosts = new FakeHosts()
  const orig = hosts.run.bind(hosts)
  hosts.run = async (h: string, sc: string) => {
    const out = await orig(h, sc)
    if (/systemctl start kaopsd/.test(sc)) {
      hosts.kaopsdActive.dir1 = false
      hosts.holder = 'dir2'
    }
    return out
  }
  const steps = (await fastSteps()).map((s) => (s.action === 'wait-failback' ? {...s, params: {timeout_ms: 300}} : s))
  const r = await drillOne(await ctx(hosts), steps)
  assert.equal(r.restored.ok, false)
  assert.equal(r.failback.verdict, 'FAIL')
  assert.match(r.restored.message, /NOT as it was \(dir1 held the VIP\): VIP on dir2; kaopsd not active on dir1: inactive/)
})
