// The inventories rendered into golden files, and how they are loaded (fixed secrets, so the
// golden bytes do not depend on this machine). Shared by the golden test and the keepalived
// syntax lab test; not a test file itself.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {checkInventoryText} from '../../src/inventory/load.js'
import type {SecretSources} from '../../src/inventory/secrets.js'
import {renderHosts} from '../../src/render/render-hosts.js'
import type {DesiredHost} from '../../src/model/desired-state.js'
import type {Inventory} from '../../src/model/inventory.js'

export const ROOT = join(import.meta.dirname, '..', '..')
export const GOLDEN = join(ROOT, 'test', 'golden')

export const goldenSecrets: SecretSources = {
  env: {GOLDEN_PASS: 'golden1', GOLDEN_PASS2: 'golden2', KAOPS_PROD_VRRP_PASS: 'prodPass'},
  readFile: (p) => {
    if (p === '/etc/kaops/secrets/vrrp-api.pass') return 'apiPass1\n'
    throw Object.assign(new Error('no such file'), {code: 'ENOENT'})
  },
  baseDir: '/nonexistent',
}

export const CASES: Array<[name: string, inventory: string]> = [
  ['lvs-dr', 'test/golden/lvs-dr/inventory.yaml'],
  ['nginx-pair', 'test/golden/nginx-pair/inventory.yaml'],
  ['dual-master', 'test/golden/dual-master/inventory.yaml'],
  ['unicast-pair', 'test/golden/unicast-pair/inventory.yaml'],
  ['prod', 'inventories/prod.yaml'],
  ['lab', 'inventories/lab.yaml'],
]

export function renderCase(inventory: string): {inventory: Inventory; hosts: DesiredHost[]} {
  const text = readFileSync(join(ROOT, inventory), 'utf8')
  const r = checkInventoryText(text, inventory, {secrets: goldenSecrets})
  assert.deepEqual(r.problems, [], `${inventory} should be valid`)
  return {inventory: r.inventory!, hosts: renderHosts(r.inventory!)}
}
