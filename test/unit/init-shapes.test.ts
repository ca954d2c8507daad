// Every `kaops init` shape is valid as written, renders, and the command writes it.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {INIT_SHAPES, starterInventory} from '../../src/commands/init.js'
import {checkInventoryText} from '../../src/inventory/load.js'
import {renderHosts} from '../../src/render/render-hosts.js'
import {KAOPSD_CONFIG_PATH} from '../../src/render/paths.js'
import {parseConfigText} from '../../src/daemon/config/index.js'
import {kaops, ROOT} from './kaops-dev.js'

for (const shape of INIT_SHAPES) {
  test(`init --shape ${shape}: valid as written, renders a keepalived.conf kaopsd parses`, async () => {
    const text = await starterInventory(shape, join(ROOT, 'inventories', 'x.yaml'))
    assert.match(text, /\$schema=\.\.\/schemas\/inventory\.schema\.json/)
    assert.ok(text.split('\n').filter((l) => l.trimStart().startsWith('#')).length >= 4, 'commented')
    // No secret variables set: the starter's lab defaults must carry it.
    const r = checkInventoryText(text, `${shape}.yaml`, {secrets: {env: {}, readFile: () => '', baseDir: '/'}})
    assert.deepEqual(r.problems, [])
    const hosts = renderHosts(r.inventory!)
    const directors = hosts.filter((h) => h.roles.includes('director'))
    assert.equal(directors.length, 2)
    for (const h of directors) {
      const conf = h.files.find((f) => f.path === KAOPSD_CONFIG_PATH)!.content
      const parsed = await parseConfigText(conf, '/r/keepalived.conf', {configId: ''})
      assert.deepEqual(parsed.diagnostics.filter((d) => d.severity === 'error'), [], `${shape}/${h.name}`)
      assert.ok(parsed.config.vrrpInstances.length >= 1)
    }
  })
}

test('kaops init --out writes the file, refuses to overwrite, rejects an unknown shape', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaops-init-'))
  try {
    const out = join(dir, 'inv', 'web.yaml')
    const r = kaops(['init', '--shape', 'nginx-pair', '--out', out])
    assert.equal(r.status, 0, r.stderr)
    assert.match(readFileSync(out, 'utf8'), /chk_nginx/)
    assert.equal(kaops(['validate', out]).status, 0)
    assert.equal(kaops(['init', '--out', out]).status, 1, 'no overwrite without --force')
    const bad = kaops(['init', '--shape', 'nope'])
    assert.notEqual(bad.status, 0)
    assert.match(bad.stderr, /lvs-dr/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
