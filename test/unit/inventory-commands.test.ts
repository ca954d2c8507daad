// `kaops validate` and `kaops render` end to end through the oclif entry (bin/dev.js, no build).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {kaops, ROOT} from './kaops-dev.js'

test('validate: exit 0 on a valid inventory, exit 1 with file:line:col on a bad one, --json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaops-cmd-'))
  try {
    const ok = kaops(['validate', 'inventories/lab.yaml'])
    assert.equal(ok.status, 0, ok.stderr)
    assert.match(ok.stdout, /inventories\/lab\.yaml: valid/)
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, readFileSync(join(ROOT, 'inventories', 'lab.yaml'), 'utf8').replace('vrid: 51', 'vrid: 0').replace('{dir1: 150, dir2: 100}', '{dir1: 150, dir3: 100}'))
    const r = kaops(['validate', bad, '--json'])
    assert.equal(r.status, 1)
    const out = JSON.parse(r.stdout) as {valid: boolean; problems: Array<{line: number; path: string; message: string}>}
    assert.equal(out.valid, false)
    assert.deepEqual(out.problems.map((p) => p.path), ['vips[0].vrid'], 'schema errors stop before semantic checks')
    const text = kaops(['validate', bad])
    assert.equal(text.status, 1)
    assert.match(text.stderr, /bad\.yaml:\d+:\d+: vips\[0\]\.vrid: must be >= 1/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('render writes DIR/<host>/<path> with modes; --redact hides the secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaops-cmd-'))
  try {
    const r = kaops(['render', 'inventories/lab.yaml', '--out', dir, '--redact'], {KAOPS_LAB_VRRP_PASS: 'sEcr3t-x'})
    assert.equal(r.status, 0, r.stderr)
    const conf = join(dir, 'dir1', 'etc', 'kaopsd', 'keepalived.conf')
    assert.equal(statSync(conf).mode & 0o777, 0o600)
    const text = readFileSync(conf, 'utf8')
    assert.match(text, /auth_pass <redacted>/)
    assert.ok(!text.includes('sEcr3t-x') && !r.stdout.includes('sEcr3t-x') && !r.stderr.includes('sEcr3t-x'))
    assert.match(readFileSync(join(dir, 'web1', 'etc', 'systemd', 'system', 'kaops-lo-vip.service'), 'utf8'), /198\.18\.0\.100\/32 dev lo/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
