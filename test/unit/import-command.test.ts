// `kaops import --file` end to end through the oclif entry, and the SSH reader against a fake host.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {readRemoteConfigFiles, type ConfigReaderHost} from '../../src/import/from-hosts.js'
import {SETUPS} from './import-fixtures.js'
import {kaops} from './kaops-dev.js'

test('kaops import --file x2 --out writes a valid inventory; validate accepts it with the secret exported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaops-imp-'))
  try {
    const files = Object.entries(SETUPS[0]!.files).map(([p, text], i) => {
      const f = join(dir, `d${i}.conf`)
      writeFileSync(f, text)
      return f
    })
    const out = join(dir, 'inv', 'prod.yaml')
    const r = kaops(['import', '--file', files[0]!, '--file', files[1]!, '--out', out, '--name', 'prod'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /2 director\(s\) \(LVS_MASTER, LVS_BACKUP\)/)
    assert.match(r.stdout, /export KAOPS_VRRP_PASS_VI_1/)
    const yaml = readFileSync(out, 'utf8')
    assert.match(yaml, /env: KAOPS_VRRP_PASS_VI_1/)
    assert.ok(!yaml.includes('1111'), 'auth_pass is not written')
    const again = kaops(['import', '--file', files[0]!, '--out', out])
    assert.equal(again.status, 1, 'an existing --out is not overwritten without --force')
    const v = kaops(['validate', out], {KAOPS_VRRP_PASS_VI_1: '1111'})
    assert.equal(v.status, 0, v.stderr)
    const j = kaops(['import', '--file', files[0]!, '--json'])
    assert.equal(j.status, 0, j.stderr)
    const parsed = JSON.parse(j.stdout) as {directors: string[]; inventory: string}
    assert.deepEqual(parsed.directors, ['LVS_MASTER'])
    assert.match(parsed.inventory, /vrid: 51/)
    const none = kaops(['import'])
    assert.equal(none.status, 1)
    assert.match(none.stderr, /nothing to import/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('readRemoteConfigFiles: cat of the main file, one exec per include pattern, nested includes', async () => {
  const disk: Record<string, string> = {
    '/etc/keepalived/keepalived.conf': 'global_defs {\n router_id x\n}\ninclude conf.d/*.conf\n',
    '/etc/keepalived/conf.d/a.conf': 'vrrp_instance A {\n}\ninclude /etc/keepalived/extra.inc\n',
    '/etc/keepalived/conf.d/b.conf': 'vrrp_instance B {\n}\n',
    '/etc/keepalived/extra.inc': '# extra\n',
  }
  const commands: string[] = []
  const host: ConfigReaderHost = {
    exec: async (command) => {
      commands.push(command)
      const cat = /^cat '?([^']+)'?$/.exec(command)
      if (cat) return {stdout: disk[cat[1]!] ?? '', stderr: '', code: disk[cat[1]!] ? 0 : 1}
      const loop = /^for f in (\S+); do/.exec(command)!
      const re = new RegExp(`^${loop[1]!.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`)
      const stdout = Object.keys(disk).filter((p) => re.test(p)).sort().map((p) => `${p} ${Buffer.from(disk[p]!).toString('base64')}\n`).join('')
      return {stdout, stderr: '', code: 0}
    },
  }
  const files = await readRemoteConfigFiles(host, 'lb1', '/etc/keepalived/keepalived.conf')
  assert.deepEqual(Object.keys(files).sort(), Object.keys(disk).sort())
  assert.equal(files['/etc/keepalived/conf.d/b.conf'], disk['/etc/keepalived/conf.d/b.conf'])
  assert.equal(commands.length, 3, 'main file + two include patterns')
  await assert.rejects(readRemoteConfigFiles({exec: async () => ({stdout: 'include /x/$(reboot)\n', stderr: '', code: 0})}, 'lb1', '/k.conf'), /unusual characters/)
})
