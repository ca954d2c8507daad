import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtemp, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runPlan, selectHosts} from '../../src/plan/run-plan.js'
import {readSavedPlan, toSavedPlan, writeSavedPlan} from '../../src/plan/saved-plan.js'
import {colourEnabled, makeColours} from '../../src/plan/colour.js'
import {formatPlanHuman} from '../../src/plan/format-human.js'
import {SECRET, actualMap, desiredLab, freshActual} from './plan-fixtures.js'

const pipeline = {
  loadInventory: async (p: string) => ({path: p}),
  renderHosts: () => desiredLab(),
  gather: async (d: ReturnType<typeof desiredLab>) => actualMap(d, freshActual),
}

test('runPlan: load, render, gather, compute; --host narrows, unknown hosts are refused', async () => {
  const {plan} = await runPlan('inv.yaml', pipeline, {hosts: ['web1']})
  assert.deepEqual(plan.hosts.map((h) => h.host), ['web1'])
  assert.equal(plan.inventory, 'inv.yaml')
  await assert.rejects(runPlan('inv.yaml', pipeline, {hosts: ['nope']}), /unknown host\(s\): nope/)
  assert.deepEqual(selectHosts(desiredLab(), undefined).map((h) => h.name), ['dir1', 'dir2', 'web1'])
})

test('a saved plan is mode 0600, labelled sensitive, and reads back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kaops-plan-'))
  try {
    const {plan, desired} = await runPlan('inv.yaml', pipeline)
    const file = join(dir, 'lab.plan')
    await writeSavedPlan(file, toSavedPlan(plan, desired))
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    const text = await readFile(file, 'utf8')
    assert.ok(text.includes(SECRET), 'a saved plan carries what apply needs, secrets included')
    const back = await readSavedPlan(file)
    assert.match(back.sensitive, /SENSITIVE/)
    assert.equal(back.hosts.length, 3)
    await assert.rejects(readSavedPlan(join(dir, 'missing')), /not a readable plan file/)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
})

test('colours: off for NO_COLOR, TERM=dumb and non-TTY; plain text has no escapes', async () => {
  assert.equal(colourEnabled({isTTY: true}, {}), true)
  assert.equal(colourEnabled({isTTY: true}, {NO_COLOR: '1'}), false)
  assert.equal(colourEnabled({isTTY: true}, {TERM: 'dumb'}), false)
  assert.equal(colourEnabled({isTTY: false}, {}), false)
  assert.equal(makeColours(true).red('x'), '\u001B[31mx\u001B[39m')
  const {plan} = await runPlan('inv.yaml', pipeline)
  assert.ok(!formatPlanHuman(plan, {colour: false}).includes('\u001B['))
  assert.ok(formatPlanHuman(plan, {colour: true}).includes('\u001B['))
})
