import {test} from 'node:test'
import assert from 'node:assert/strict'
import {CheckSupervisor} from '../../src/daemon/check/check-supervisor.js'
import type {CheckClock} from '../../src/daemon/check/check-loop.js'
import type {CheckResult} from '../../src/daemon/check/types.js'
import type {VirtualServerConfig} from '../../src/daemon/check/virtual-server-state.js'
import type {LbBackend, VirtualService} from '../../src/daemon/lb/types.js'

class VirtualClock implements CheckClock {
  now = 0
  private timers: Array<{at: number; fn: () => void}> = []
  setTimer(ms: number, fn: () => void): () => void {
    const t = {at: this.now + ms, fn}
    this.timers.push(t)
    return () => { this.timers = this.timers.filter((x) => x !== t) }
  }
  random(): number { return 0 }
  async advanceTo(t: number): Promise<void> {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at)
      const due = this.timers[0]
      if (!due || due.at > t) break
      this.timers.shift()
      this.now = due.at
      due.fn()
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
    }
    this.now = t
  }
}

test('supervisor: a failing real server is taken out of the data plane, notify_down runs after the reconcile', async () => {
  const clock = new VirtualClock()
  const applied: VirtualService[][] = []
  const order: string[] = []
  const backend: LbBackend = {
    name: 'nftables',
    async reconcile(d) { applied.push(structuredClone([...d])); order.push('reconcile'); return {applied: 'x', changes: 1, warnings: []} },
    async clear() {},
  }
  const cfg: VirtualServerConfig = {
    key: {kind: 'address', family: 'ipv4', address: '198.18.0.10', port: 80, protocol: 'TCP'},
    algo: 'rr', kind: 'NAT', alpha: false, omega: true, quorum: 1, hysteresis: 0,
    realServers: [
      {address: '198.18.1.1', port: 80, weight: 1, inhibitOnFailure: false, notifyDown: 'down.sh'},
      {address: '198.18.1.2', port: 80, weight: 1, inhibitOnFailure: false},
    ],
  }
  const schedule = {delayLoopMs: 6000, retry: 1, delayBeforeRetryMs: 1000, warmupMs: 0, alpha: false}
  const check = async (t: {address: string}): Promise<CheckResult> =>
    ({ok: !(t.address === '198.18.1.1' && clock.now >= 6000), latencyMs: 1, detail: clock.now >= 6000 ? 'refused' : 'ok'})
  const sup = new CheckSupervisor(
    [{config: cfg, checks: {'198.18.1.1:80': {checker: {type: 'TCP_CHECK', connectTimeoutMs: 1000}, schedule}, '198.18.1.2:80': undefined}}],
    backend, {runNotification: (n) => order.push(n.script), log: () => {}}, clock, check, () => new Date(0))
  await sup.start()
  assert.deepEqual(applied[0]![0]!.destinations.map((d) => d.address), ['198.18.1.1', '198.18.1.2'])
  await clock.advanceTo(6500) // checks at 0 (ok) and 6000 (fail 1)
  assert.equal(applied.length, 1, 'one failure is within retry')
  await clock.advanceTo(7000) // retry at 7000 fails: down
  await sup.settled()
  assert.deepEqual(applied.at(-1)![0]!.destinations.map((d) => d.address), ['198.18.1.2'])
  assert.deepEqual(order, ['reconcile', 'reconcile', 'down.sh'])
  const st = sup.status('nftables')[0]!
  assert.deepEqual(st.realServers.map((r) => [r.address, r.up, r.lastCheck?.detail ?? null]), [['198.18.1.1', false, 'refused'], ['198.18.1.2', true, null]])
  await sup.stop()
  assert.deepEqual(order.slice(3), [], 'omega: nothing live has a notify_down script (rs1 already down)')
})
