import {test} from 'node:test'
import assert from 'node:assert/strict'
import {afterCheck, startChecking} from '../../src/daemon/check/check-scheduler.js'
import {RealServerChecker, type CheckClock} from '../../src/daemon/check/check-loop.js'
import type {CheckResult, CheckSchedule} from '../../src/daemon/check/types.js'

/** A virtual clock: timers fire only when the test advances time. */
class VirtualClock implements CheckClock {
  now = 0
  private timers: Array<{at: number; fn: () => void; id: number}> = []
  private next = 0
  setTimer(ms: number, fn: () => void): () => void {
    const id = this.next++
    this.timers.push({at: this.now + ms, fn, id})
    return () => { this.timers = this.timers.filter((t) => t.id !== id) }
  }
  random(): number { return 0.5 }
  async advanceTo(t: number): Promise<void> {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id)
      const due = this.timers[0]
      if (!due || due.at > t) break
      this.timers.shift()
      this.now = due.at
      due.fn()
      // Let the (instant) check's promise and the state step run before the next timer.
      await new Promise((r) => setImmediate(r))
    }
    this.now = t
  }
}

const schedule: CheckSchedule = {delayLoopMs: 10_000, retry: 2, delayBeforeRetryMs: 3_000, warmupMs: 0, alpha: false}
const ok: CheckResult = {ok: true, latencyMs: 1, detail: 'ok'}
const fail: CheckResult = {ok: false, latencyMs: 1, detail: 'refused'}

test('scheduler: down after retry+1 consecutive failures, delay_before_retry apart; up on the first success', async () => {
  const clock = new VirtualClock()
  const checks: number[] = []
  const changes: Array<[number, boolean]> = []
  // The server dies at t=15 s and comes back at t=40 s.
  const check = async (): Promise<CheckResult> => {
    checks.push(clock.now / 1000)
    return clock.now >= 15_000 && clock.now < 40_000 ? fail : ok
  }
  const rs = new RealServerChecker({address: '198.18.1.1', port: 80}, {type: 'TCP_CHECK', connectTimeoutMs: 1000}, schedule,
    (c) => changes.push([clock.now / 1000, c.up]), clock, check)
  rs.start()
  await clock.advanceTo(60_000)
  rs.stop()
  // 0 ok, 10 ok, 20 fail (1st), 23 retry 1, 26 retry 2 -> down, 36 fail while down, 46 ok -> up, 56 ok.
  assert.deepEqual(checks, [0, 10, 20, 23, 26, 36, 46, 56])
  assert.deepEqual(changes, [[26, false], [46, true]])
  await clock.advanceTo(100_000)
  assert.equal(checks.length, 8, 'stop() cancels the next check')
})

test('scheduler: a success in the middle of retries resets the count', () => {
  let s = startChecking(schedule, 0).state
  for (const r of [fail, fail, ok, fail, fail]) {
    const step = afterCheck(s, schedule, r)
    assert.equal(step.change, undefined, 'never went down: never retry+1 failures in a row')
    s = step.state
  }
  const third = afterCheck(s, schedule, fail)
  assert.equal(third.change?.up, false)
  assert.match(third.change!.reason, /3 consecutive failure/)
  assert.equal(third.nextCheckInMs, 10_000)
})

test('scheduler: alpha starts down and the first success brings it up; warmup delays the first check', () => {
  const start = startChecking({...schedule, alpha: true, warmupMs: 8000}, 0.25)
  assert.deepEqual(start, {state: {up: false, failures: 0}, nextCheckInMs: 2000})
  const failed = afterCheck(start.state, schedule, fail)
  assert.equal(failed.change, undefined)
  assert.equal(failed.nextCheckInMs, 10_000, 'a down server is probed every delay_loop, no retries')
  const up = afterCheck(failed.state, schedule, ok)
  assert.deepEqual(up.change, {up: true, weight: undefined, reason: 'ok'})
})

test('scheduler: retry 0 means the first failure takes the server down', () => {
  const s = startChecking({...schedule, retry: 0}, 0).state
  assert.equal(afterCheck(s, {...schedule, retry: 0}, fail).change?.up, false)
})

test('scheduler: misc_dynamic weight changes are reported while up', () => {
  const s = startChecking(schedule, 0).state
  const w5 = afterCheck(s, schedule, {...ok, weight: 5})
  assert.deepEqual(w5.change, {up: true, weight: 5, reason: 'ok'})
  assert.equal(afterCheck(w5.state, schedule, {...ok, weight: 5}).change, undefined, 'same weight: no change')
  assert.equal(afterCheck(w5.state, schedule, {...ok, weight: 7}).change?.weight, 7)
})
