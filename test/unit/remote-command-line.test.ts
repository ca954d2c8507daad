import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {commandLine} from '../../src/remote/connection.js'
import {mapSettledLimit} from '../../src/remote/parallel.js'
import {shq} from '../../src/remote/shell-quote.js'

test('sudo only for a non-root user with sudo allowed, and never prompting', () => {
  const cmd = `printf '%s' "it's"`
  assert.equal(commandLine({user: 'root', sudo: true}, cmd, true), cmd)
  assert.equal(commandLine({user: 'ops', sudo: false}, cmd, true), cmd)
  assert.equal(commandLine({user: 'ops', sudo: true}, cmd, false), cmd)
  const wrapped = commandLine({user: 'ops', sudo: true}, cmd, true)
  assert.match(wrapped, /^sudo -n sh -c /)
  // The quoted command survives a real shell unchanged.
  assert.equal(execFileSync('/bin/sh', ['-c', wrapped.replace(/^sudo -n /, '')], {encoding: 'utf8'}), "it's")
})

test('shq quotes anything a path or value can hold', () => {
  for (const w of ['plain', "a'b", 'sp ace', '$(rm -rf /)', '`x`', '', 'é\n"']) {
    assert.equal(execFileSync('/bin/sh', ['-c', `printf '%s' ${shq(w)}`], {encoding: 'utf8'}), w)
  }
})

test('mapSettledLimit: bounded, ordered, every item settles', async () => {
  let inFlight = 0
  let peak = 0
  const r = await mapSettledLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    inFlight++
    peak = Math.max(peak, inFlight)
    await new Promise((res) => setTimeout(res, 5 * (8 - n)))
    inFlight--
    if (n === 4) throw new Error('host 4 down')
    return n * 10
  })
  assert.equal(peak, 3)
  assert.deepEqual(r.map((x) => (x.status === 'fulfilled' ? x.value : (x.reason as Error).message)), [10, 20, 30, 'host 4 down', 50, 60, 70])
  await assert.rejects(mapSettledLimit([1], 0, async () => 1), /positive integer/)
})
