import {test} from 'node:test'
import assert from 'node:assert/strict'
import {defaultPlaybookPath, loadPlaybook, parsePlaybook} from '../../src/apply/playbook-load.js'
import {ACTION_NAMES} from '../../src/model/playbook.js'
import {ACTIONS} from '../../src/apply/actions.js'

const head = 'apiVersion: kaops/v1\nkind: Playbook\nname: t\nphases:\n'

test('the shipped playbooks load, and every catalog action is implemented', async () => {
  const apply = await loadPlaybook(defaultPlaybookPath('apply'))
  assert.deepEqual(apply.phases.map((p) => p.name), ['lock', 'stage', 'real-servers', 'directors'])
  const dirs = apply.phases.find((p) => p.name === 'directors')!
  assert.equal(dirs.order, 'backups-first')
  const acts = dirs.steps.map((s) => s.action)
  assert.ok(acts.indexOf('config-test') < acts.indexOf('switch-release'), 'config test before the switch')
  assert.ok(acts.indexOf('handover-mastership') < acts.indexOf('reload-or-restart'))
  assert.equal(dirs.steps.find((s) => s.action === 'health-gate')!.params['placement'], 'plan')
  const rs = apply.phases.find((p) => p.name === 'real-servers')!.steps.map((s) => s.action)
  assert.ok(rs.indexOf('apply-sysctl') < rs.indexOf('prepare-real-servers'), 'ARP sysctl before the VIP goes on lo')
  await loadPlaybook(defaultPlaybookPath('rollback'))
  for (const a of ACTION_NAMES) assert.equal(typeof ACTIONS[a], 'function', a)
})

test('an operator can add a drain step without code', () => {
  const p = parsePlaybook(head + '  - name: d\n    hosts: real-servers\n    order: serial\n    steps:\n      - action: run\n        name: drain\n        with: {command: "echo drain", timeout: 5}\n      - action: wait\n        with: {seconds: 2}\n', 'x.yaml')
  assert.equal(p.phases[0]!.steps[0]!.name, 'drain')
  assert.equal(p.phases[0]!.steps[0]!.params['command'], 'echo drain')
  assert.equal(p.phases[0]!.steps[1]!.line, 12)
})

test('errors name file:line:column and the key', () => {
  const bad = head + '  - name: a\n    hosts: all\n    steps:\n      - action: lok\n      - action: run\n      - action: wait\n        with: {seconds: 1, foo: 2}\n'
  assert.throws(() => parsePlaybook(bad, 'p.yaml'), (e: Error) => {
    assert.match(e.message, /p\.yaml:8:\d+: phases\.0\.steps\.0\.action: must be one of: lock,/)
    assert.match(e.message, /p\.yaml:9:\d+: phases\.0\.steps\.1: missing required key "with"/)
    assert.match(e.message, /p\.yaml:11:\d+: phases\.0\.steps\.2\.with: unknown key "foo"/)
    return true
  })
})

test('YAML syntax errors and misplaced orders are placed too', () => {
  assert.throws(() => parsePlaybook(head + '  - name: [\n', 's.yaml'), /s\.yaml:\d+:\d+:/)
  assert.throws(() => parsePlaybook(head + '  - name: a\n    hosts: all\n    order: backups-first\n    steps: [{action: lock}]\n', 'o.yaml'), /o\.yaml:5: phase "a": order backups-first only makes sense with hosts: directors/)
  assert.throws(() => parsePlaybook(head + '  - name: a\n    hosts: everyone\n    steps: [{action: lock}]\n', 'h.yaml'), /h\.yaml:6:\d+: phases\.0\.hosts: must be one of: all, directors, real-servers/)
})
