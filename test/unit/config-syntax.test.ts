import assert from 'node:assert/strict'
import {test} from 'node:test'
import {memoryConfigFs, parseConfigText} from '../../src/daemon/config/index.js'
import {ConfigHasher, configHashOf} from '../../src/model/config-hash.js'

// Syntax features of keepalived.conf: comments, quotes, braces, includes, conditionals, parameters.

const VI = (extra = ''): string => `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  ${extra}
}
`

test('# and ! comments anywhere on a line, but not inside quotes', async () => {
  const {config, diagnostics} = await parseConfigText(
    `! a comment line\n# another\nglobal_defs { # trailing\n  router_id r1 ! trailing too\n  notification_email_from "a#b!c@example.com"\n}\n`,
    '/etc/k.conf',
  )
  assert.deepEqual(diagnostics, [])
  assert.equal(config.globalDefs.routerId, 'r1')
  assert.equal(config.globalDefs.notificationEmailFrom, 'a#b!c@example.com')
})

test('quoted strings keep spaces, quotes may start mid-word, escapes work', async () => {
  const {config, diagnostics} = await parseConfigText(
    VI(`notify_master "/usr/bin/x.sh  MASTER 'two words'"\n  notify_backup ab"c d"e\n  notify_fault "tab\\there"`),
    '/etc/k.conf',
  )
  assert.deepEqual(diagnostics, [])
  const v = config.vrrpInstances[0]!
  assert.equal(v.notifyMaster?.command, "/usr/bin/x.sh  MASTER 'two words'")
  assert.deepEqual(v.notifyMaster?.argv, ['/usr/bin/x.sh', 'MASTER', 'two words'])
  assert.equal(v.notifyBackup?.command, 'abc de')
  assert.equal(v.notifyFault?.command, 'tab\there')
})

test('blocks may open and close on one line, and { may stand on its own line', async () => {
  const {config, diagnostics} = await parseConfigText(
    `vrrp_script chk { script "/bin/true" }\nvrrp_instance VI_1\n{\n interface eth0\n virtual_router_id 9\n virtual_ipaddress { 192.0.2.1 }\n track_script { chk }\n}\n`,
    '/etc/k.conf',
  )
  assert.deepEqual(diagnostics, [])
  assert.equal(config.vrrpInstances[0]!.virtualRouterId, 9)
  assert.equal(config.vrrpInstances[0]!.trackScripts[0]!.name, 'chk')
})

test('unbalanced braces are reported with file:line', async () => {
  const {diagnostics} = await parseConfigText(`global_defs {\n router_id x\n`, '/etc/k.conf')
  assert.deepEqual(diagnostics, [{severity: 'error', file: '/etc/k.conf', line: 1, message: "block 'global_defs' opened here is never closed (missing '}')"}])
  const extra = await parseConfigText(`global_defs {\n}\n}\n`, '/etc/k.conf')
  assert.equal(extra.diagnostics[0]!.line, 3)
  assert.match(extra.diagnostics[0]!.message, /never opened/)
})

test('include with a glob, relative to the including file, sorted; lines keep their own file:line', async () => {
  const fs = memoryConfigFs({
    '/etc/keepalived/conf.d/20-b.conf': 'vrrp_instance B {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n 192.0.2.2\n }\n}\n',
    '/etc/keepalived/conf.d/10-a.conf': 'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 192.0.2.1\n }\n bogus_kw\n}\n',
    '/etc/keepalived/conf.d/notes.txt': 'not a config',
    '/etc/keepalived/other/x.conf': 'global_defs {\n router_id from_brace\n}\n',
  })
  const {config, diagnostics} = await parseConfigText('include conf.d/*.conf\ninclude "other/{x,y}.conf"\n', '/etc/keepalived/keepalived.conf', {fs})
  assert.deepEqual(config.vrrpInstances.map((v) => v.name), ['A', 'B'])
  assert.equal(config.globalDefs.routerId, 'from_brace')
  assert.deepEqual(config.files, [
    '/etc/keepalived/keepalived.conf',
    '/etc/keepalived/conf.d/10-a.conf',
    '/etc/keepalived/conf.d/20-b.conf',
    '/etc/keepalived/other/x.conf',
  ])
  assert.deepEqual(diagnostics, [{severity: 'error', file: '/etc/keepalived/conf.d/10-a.conf', line: 7, message: "unknown keyword 'bogus_kw' in vrrp_instance A"}])
})

test('an include that matches nothing is a warning (keepalived carries on too); a loop is an error', async () => {
  const fs = memoryConfigFs({'/k/a.conf': 'include b.conf\n', '/k/b.conf': 'include a.conf\n'})
  const missing = await parseConfigText('include /nowhere/*.conf\n', '/k/main.conf', {fs})
  assert.deepEqual(missing.diagnostics, [{severity: 'warning', file: '/k/main.conf', line: 1, message: "include '/nowhere/*.conf' matched no file"}])
  const loop = await parseConfigText('include a.conf\n', '/k/main.conf', {fs})
  assert.ok(loop.diagnostics.some((d) => d.severity === 'error' && /include loop/.test(d.message)), JSON.stringify(loop.diagnostics))
})

test('@id and @^id conditional lines follow the config id', async () => {
  const text = `global_defs {\n @main router_id main_router\n @backup router_id backup_router\n}\n` +
    `vrrp_instance V {\n interface eth0\n virtual_router_id 3\n virtual_ipaddress {\n 192.0.2.1\n }\n` +
    ` unicast_peer {\n  @^main 192.0.2.10\n  @^backup 192.0.2.11\n }\n}\n`
  const main = await parseConfigText(text, '/k.conf', {configId: 'main'})
  assert.equal(main.config.globalDefs.routerId, 'main_router')
  assert.deepEqual(main.config.vrrpInstances[0]!.unicastPeers.map((p) => p.address), ['192.0.2.11'])
  const other = await parseConfigText(text, '/k.conf', {configId: 'other'})
  assert.equal(other.config.globalDefs.routerId, undefined)
  assert.deepEqual(other.config.vrrpInstances[0]!.unicastPeers.map((p) => p.address), ['192.0.2.10', '192.0.2.11'])
})

test('$NAME parameters: $X before whitespace, ${X} anywhere, recursive at use time, undefined left alone', async () => {
  const text = `$BASE=192.0.\${SUB}\n$SUB=2\n$IF=eth1\n` +
    `vrrp_instance V {\n interface $IF\n virtual_router_id 7\n virtual_ipaddress {\n  \${BASE}.1/24\n }\n notify_master "/bin/echo \${UNDEF} $HOME_NOT_DEFINED"\n}\n`
  const {config, diagnostics} = await parseConfigText(text, '/k.conf')
  assert.deepEqual(diagnostics, [])
  const v = config.vrrpInstances[0]!
  assert.equal(v.interface, 'eth1')
  assert.equal(v.virtualIpAddresses[0]!.address, '192.0.2.1')
  assert.equal(v.virtualIpAddresses[0]!.prefixLength, 24)
  assert.equal(v.notifyMaster!.command, '/bin/echo ${UNDEF} $HOME_NOT_DEFINED')
})

test('multi-line parameters with \\ continuation expand to several lines, with conditionals inside', async () => {
  const text = `$INST= \\\nvrrp_instance VI_\${NUM} { \\\n interface eth0 \\\n virtual_router_id 1\${NUM} \\\n @high priority 130 \\\n @low priority 120 \\\n virtual_ipaddress { \\\n  10.0.\${NUM}.254/24 \\\n } \\\n}\n` +
    `$NUM=0\n$INST\n$NUM=1\n$INST\n`
  const {config, diagnostics} = await parseConfigText(text, '/k.conf', {configId: 'low'})
  assert.deepEqual(diagnostics, [])
  assert.deepEqual(config.vrrpInstances.map((v) => [v.name, v.virtualRouterId, v.priority, v.virtualIpAddresses[0]!.address]), [
    ['VI_0', 10, 120, '10.0.0.254'],
    ['VI_1', 11, 120, '10.0.1.254'],
  ])
})

test('conditional parameter definitions and a parameter that expands to a conditional', async () => {
  const text = `@main $PRIO=240\n@backup $PRIO=200\n$IF_MAIN=@main\n` + VI(`priority $PRIO\n  $IF_MAIN nopreempt`)
  const main = await parseConfigText(text, '/k.conf', {configId: 'main'})
  assert.equal(main.config.vrrpInstances[0]!.priority, 240)
  assert.equal(main.config.vrrpInstances[0]!.nopreempt, true)
  const backup = await parseConfigText(text, '/k.conf', {configId: 'backup'})
  assert.equal(backup.config.vrrpInstances[0]!.priority, 200)
  assert.equal(backup.config.vrrpInstances[0]!.nopreempt, false)
})

test('built-in parameters: ${_PWD}, ${_INSTANCE}, ${_HASH}, ${_BANG}', async () => {
  const {config} = await parseConfigText(VI('notify "${_PWD}/n.sh ${_INSTANCE} ${_HASH}${_BANG}"'), '/etc/kp/k.conf', {configId: 'lb1'})
  assert.equal(config.vrrpInstances[0]!.notify!.command, '/etc/kp/n.sh lb1 #!')
})

test('contentHash: every file as parsed, in reading order; one file is what verify recomputes', async () => {
  const main = 'include conf.d/*.conf\nglobal_defs {\n router_id a\n}\n'
  const part = 'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 192.0.2.1\n }\n}\n'
  const fs = memoryConfigFs({'/k/conf.d/a.conf': part})
  const r = await parseConfigText(main, '/k/keepalived.conf', {fs})
  const h = new ConfigHasher()
  h.add('/k/keepalived.conf', main)
  h.add('/k/conf.d/a.conf', part)
  assert.equal(r.contentHash, h.digest())
  const one = await parseConfigText(part, '/etc/kaopsd/keepalived.conf')
  assert.equal(one.contentHash, configHashOf('/etc/kaopsd/keepalived.conf', part))
  const edited = await parseConfigText(part.replace('192.0.2.1', '192.0.2.9'), '/etc/kaopsd/keepalived.conf')
  assert.notEqual(edited.contentHash, one.contentHash, 'an edit changes the hash')
})
