// dist/kaopsd, the one-file daemon, as an operator gets it: copied alone into an empty folder,
// run with no Node.js on PATH and no NODE_* variables. `npm test` runs `npm run build` first.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const exe = 'dist/kaopsd'
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as {version: string}).version

test('dist/kaopsd runs alone from an empty folder', async (t) => {
  assert.ok(existsSync(exe), `${exe} missing: npm test builds it (npm run build); alone: node scripts/build-kaopsd.mjs`)
  const dir = mkdtempSync(join(tmpdir(), 'kaopsd-alone-'))
  // A private TMPDIR shows whether the extracted addon is cleaned up after loading.
  const tmp = mkdtempSync(join(tmpdir(), 'kaopsd-tmp-'))
  try {
    copyFileSync(exe, join(dir, 'kaopsd'))
    assert.deepEqual(readdirSync(dir), ['kaopsd'])
    const env = {PATH: '/nonexistent', TMPDIR: tmp}
    const run = (...args: string[]) => spawnSync('./kaopsd', args, {cwd: dir, env, encoding: 'utf8', timeout: 20_000})

    await t.test('--version prints the embedded package version', () => {
      const r = run('--version')
      assert.equal(r.status, 0, r.stderr)
      assert.equal(r.stdout, `kaopsd ${version} (keepalived 2.2 compatible)\n`)
    })

    await t.test('an unknown flag exits non-zero with a clear message', () => {
      const r = run('--bogus')
      assert.equal(r.status, 1)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, /^kaopsd: unknown option --bogus \(see kaopsd --help\)\n$/)
    })

    await t.test('the embedded native addon loads and talks to the kernel', () => {
      const r = run('self-test', 'lo')
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.stdout, /^native addon ok: lo ifindex \d+ mac 00:00:00:00:00:00\n$/)
      assert.deepEqual(readdirSync(tmp), [], 'the extracted addon was left behind')
      const bad = run('self-test', 'nosuchif0')
      assert.equal(bad.status, 1)
      assert.match(bad.stderr, /ioctl\(SIOCGIFINDEX, nosuchif0\): No such device \(ENODEV\)/)
    })

    await t.test('--help lists keepalived flags', () => {
      const r = run('--help')
      assert.equal(r.status, 0)
      for (const flag of ['--use-file', '--dont-release-vrrp', '--log-facility', '--control-socket', 'kaopsd status']) {
        assert.ok(r.stdout.includes(flag), `--help lacks ${flag}`)
      }
    })

    assert.ok(statSync(exe).size > 10e6, 'suspiciously small for a Node single executable')
  } finally {
    rmSync(dir, {recursive: true, force: true})
    rmSync(tmp, {recursive: true, force: true})
  }
})
