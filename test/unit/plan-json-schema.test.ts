import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {Ajv} from 'ajv'
import addFormatsModule from 'ajv-formats'
import {computePlan} from '../../src/plan/compute.js'
import {formatPlanJson} from '../../src/plan/format-json.js'
import {actualMap, convergedActual, desiredLab, freshActual} from './plan-fixtures.js'

// ajv-formats is CommonJS: under NodeNext its function sits on `.default`.
const addFormats = (addFormatsModule as unknown as {default: (a: Ajv) => Ajv}).default

test('plan --json output matches schemas/plan.schema.json', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8'))
  const ajv = new Ajv({allErrors: true, strict: true})
  addFormats(ajv)
  const validate = ajv.compile(schema)
  const desired = desiredLab()
  const partial = actualMap(desired, convergedActual)
  partial.set('web1', new Error('host web1: unreachable'))
  for (const actual of [actualMap(desired, freshActual), actualMap(desired, convergedActual), partial]) {
    const doc = JSON.parse(formatPlanJson(computePlan(desired, actual, {inventory: 'inventories/lab.yaml'}))) as object
    assert.ok(validate(doc), ajv.errorsText(validate.errors))
    assert.equal(Object.keys(doc)[0], 'format_version', 'format_version leads the document')
  }
  // The schema does bite: an unknown action is rejected.
  const bad = JSON.parse(formatPlanJson(computePlan(desired, actualMap(desired, freshActual))))
  bad.hosts[0].changes[0].action = 'replace'
  assert.equal(validate(bad), false)
})
