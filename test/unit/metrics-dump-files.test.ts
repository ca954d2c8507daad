import {lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import {parseConfigText} from '../../src/daemon/config/index.js'
import {formatTimeval, installDumpSignals, renderData, renderStats, writeDumpFile} from '../../src/daemon/control/dump-files.js'
import {sampleStatus} from './metrics-fixture.js'

const dir = mkdtempSync(join(tmpdir(), 'kaops-dump-'))
after(() => rmSync(dir, {recursive: true, force: true}))

test('the stats dump has keepalived 2.2.7\'s layout, line for line', () => {
  const text = renderStats(sampleStatus())
  // Captured from keepalived 2.2.7 (SIGUSR2) with this instance's numbers put in.
  const vi1 = [
    'VRRP Instance: VI_1', '  Advertisements:', '    Received: 7', '    Sent: 1200', '  Became master: 2', '  Released master: 1',
    '  Packet Errors:', '    Length: 0', '    TTL: 3', '    Invalid Type: 0', '    Advertisement Interval: 0', '    Address List: 0',
    '  Authentication Errors:', '    Invalid Type: 0', '    Type Mismatch: 0', '    Failure: 5',
    '  Priority Zero:', '    Received: 1', '    Sent: 0',
  ]
  const lines = text.split('\n')
  assert.deepEqual(lines.slice(0, vi1.length), vi1)
  assert.equal(lines[vi1.length], 'VRRP Instance: VI_2')
  assert.ok(text.endsWith('    Sent: 0\n'))
})

test('the data dump has keepalived\'s sections and the snapshot\'s facts', async () => {
  const {config} = await parseConfigText(`
global_defs {
  router_id lb01
  notification_email { ops@example.test }
  smtp_server 127.0.0.1 25
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  authentication { auth_type PASS
    auth_pass secret }
  virtual_ipaddress { 198.18.0.100/24 }
  notify_master "/etc/keepalived/master.sh VI_1"
  smtp_alert
}
`, join(dir, 'keepalived.conf'))
  const text = renderData(sampleStatus(), config)
  const sections = text.split('\n').filter((l) => l.startsWith('------<'))
  assert.deepEqual(sections, ['------< Global definitions >------', '------< VRRP Topology >------', '------< VRRP Sync groups >------', '------< LVS Topology >------'])
  assert.match(text, /^ Router ID = lb01$/m)
  assert.match(text, /^ Smtp server = 127\.0\.0\.1\n Smtp server port = 25$/m)
  assert.match(text, /^ VRRP Instance = VI_1\n   VRRP Version = 2\n   Sync group = G1\n   State = MASTER\n/m)
  assert.match(text, /^   Last transition = 1767323045\.000000 \(\w{3} Jan  2 \d\d:04:05\.000000 2026\)$/m)
  assert.match(text, /^   Last transition reason = master down timer expired$/m)
  assert.match(text, /^   Effective priority = 140$/m)
  assert.match(text, /^   Authentication type = SIMPLE_PASSWORD$/m)
  assert.doesNotMatch(text, /secret/, 'the password is not written to a file in /tmp')
  assert.match(text, /^   Virtual IP \(2\):\n     198\.18\.0\.100\/24 dev eth0\n     198\.18\.0\.101\/24 dev eth0$/m)
  assert.match(text, /^   Master state transition script = '\/etc\/keepalived\/master\.sh VI_1'$/m)
  assert.match(text, /^   Using smtp notification = yes$/m)
  assert.match(text, /^ VRRP Instance = VI_2\n   VRRP Version = 3\n   Using Native IPv6\n   State = BACKUP\n   Master router = fe80::2$/m)
  assert.match(text, /^ VRRP Sync Group = G1, MASTER\n   VRRP member instances :\n     VI_1$/m)
  assert.match(text, /^   Real server = 198\.18\.1\.12:80\n     Weight = 0\n     Alive = no\n     Last check = .*failed in 1 ms: connection refused$/m)
  assert.match(formatTimeval(new Date(1795424876841)), /^1795424876\.841000 \(\w{3} Nov 2\d \d\d:\d\d:56\.841000 2026\)$/)
})

test('SIGUSR1 and SIGUSR2 write the dumps to the configured paths, never through a planted symlink', async () => {
  const dataPath = join(dir, 'keepalived.data')
  const statsPath = join(dir, 'keepalived.stats')
  const victim = join(dir, 'victim')
  writeFileSync(victim, 'precious\n')
  symlinkSync(victim, statsPath)
  const logs: string[] = []
  const uninstall = installDumpSignals({getStatus: sampleStatus, dataPath, statsPath, log: {info: (m) => logs.push(m), error: (m) => logs.push(`error: ${m}`)}})
  try {
    process.kill(process.pid, 'SIGUSR1')
    process.kill(process.pid, 'SIGUSR2')
    for (let i = 0; i < 100 && logs.length < 2; i++) await new Promise((r) => setTimeout(r, 10))
  } finally {
    uninstall()
  }
  assert.deepEqual(logs.sort(), [`data dump written to ${dataPath}`, `stats dump written to ${statsPath}`])
  assert.match(readFileSync(dataPath, 'utf8'), /^------< Global definitions >------\n/)
  assert.equal(readFileSync(statsPath, 'utf8'), renderStats(sampleStatus()))
  assert.equal(lstatSync(statsPath).isSymbolicLink(), false)
  assert.equal(lstatSync(statsPath).mode & 0o777, 0o600)
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n')
  assert.throws(() => writeDumpFile(join(dir, 'no-such-dir', 'x'), 'x'), /ENOENT/)
})
