import {test} from 'node:test'
import assert from 'node:assert/strict'
import {DeadlineTimers, monotonicMs} from '../../src/daemon/core/clock.js'

test('deadline timers never fire early, and replace or clear by name', async () => {
  const fired: {key: string; lateMs: number}[] = []
  const deadlines = new Map<string, number>()
  const timers = new DeadlineTimers<string>((key, now) => fired.push({key, lateMs: now - deadlines.get(key)!}))
  const at = (key: string, inMs: number) => {
    deadlines.set(key, monotonicMs() + inMs)
    timers.set(key, deadlines.get(key)!)
  }
  at('a', 25.5)
  at('b', 3.2)
  at('c', 10)
  at('c', 40) // replaces the first deadline of c
  at('d', 15)
  timers.clear('d')
  await new Promise((r) => setTimeout(r, 80))
  assert.deepEqual(fired.map((f) => f.key), ['b', 'a', 'c'])
  for (const f of fired) assert.ok(f.lateMs >= 0, `${f.key} fired ${-f.lateMs} ms early`)
  assert.equal(timers.has('a'), false)
})
