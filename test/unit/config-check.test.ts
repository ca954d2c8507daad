import assert from 'node:assert/strict'
import {chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {
  checkConfig,
  checkConfigFile,
  dumpConfig,
  formatDiagnostic,
  memoryConfigFs,
  nodeHostEnv,
  parseConfigText,
  type FileInfo,
  type HostEnv,
} from '../../src/daemon/config/index.js'

// The config test's messages: what `kaopsd -t` reports, each naming file:line.

const VI = (name: string, vrid: number, body = '', iface = 'eth0'): string =>
  `vrrp_instance ${name} {\n interface ${iface}\n virtual_router_id ${vrid}\n virtual_ipaddress {\n  192.0.2.${vrid}\n }\n${body}}\n`

async function errors(text: string): Promise<string[]> {
  const {diagnostics} = await parseConfigText(text, '/etc/keepalived/keepalived.conf')
  return diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)
}

test('unknown keyword, named with file:line', async () => {
  assert.deepEqual(await errors('global_defs {\n  router_id a\n  foo bar\n}\n'), ["/etc/keepalived/keepalived.conf:3: error: unknown keyword 'foo' in global_defs"])
  assert.deepEqual(await errors('vrrp_instanc X {\n}\n'), ["/etc/keepalived/keepalived.conf:1: error: unknown keyword 'vrrp_instanc' in the top level"])
})

test('bad values: out of range, not a number, bad address, bad enum', async () => {
  assert.deepEqual(await errors(VI('V', 1, ' priority 300\n')), ["/etc/keepalived/keepalived.conf:7: error: 'priority': 300 is outside the range 1..255"])
  assert.deepEqual(await errors(VI('V', 1, ' advert_int fast\n')), ["/etc/keepalived/keepalived.conf:7: error: 'advert_int': 'fast' is not a time in seconds"])
  assert.deepEqual(await errors(VI('V', 1, ' state LEADER\n')), ["/etc/keepalived/keepalived.conf:7: error: vrrp_instance V: unknown state 'LEADER' (MASTER or BACKUP)"])
  assert.deepEqual(await errors('vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  192.0.2.400\n  192.0.2.1\n }\n}\n'), [
    "/etc/keepalived/keepalived.conf:5: error: vrrp_instance V virtual_ipaddress: '192.0.2.400' is not a valid IP address (ADDRESS[/PREFIX])",
  ])
  assert.deepEqual(await errors('virtual_server 192.0.2.1 80 {\n lb_algo fastest\n lb_kind NAT\n protocol TCP\n}\n'), [
    "/etc/keepalived/keepalived.conf:2: error: virtual_server 192.0.2.1 80: lb_algo 'fastest' is not one of rr wrr lc wlc lblc lblcr sh dh sed nq",
    "/etc/keepalived/keepalived.conf:1: error: virtual_server 192.0.2.1 80: no lb_algo set (keepalived would use wlc); write it out",
  ].sort((a, b) => Number(a.split(':')[1]) - Number(b.split(':')[1])))
  assert.deepEqual(await errors('global_defs {\n lvs_backend xdp\n}\n'), ["/etc/keepalived/keepalived.conf:2: error: 'lvs_backend': 'xdp' is not one of auto|ipvs|nftables"])
})

test('VRRPv2 refuses a fractional advert_int; VRRPv3 takes 0.01 s steps', async () => {
  assert.match((await errors(VI('V', 1, ' advert_int 0.5\n')))[0]!, /:7: error: .*VRRPv2 advert_int must be whole seconds/)
  assert.deepEqual(await errors(VI('V', 1, ' advert_int 0.01\n version 3\n')), [])
})

test('an instance without VIPs, without interface or without VRID', async () => {
  assert.deepEqual(await errors('vrrp_instance V {\n interface eth0\n virtual_router_id 1\n}\n'), [
    '/etc/keepalived/keepalived.conf:1: error: vrrp_instance V: no virtual_ipaddress; at least one VIP is needed',
  ])
  assert.deepEqual(await errors('vrrp_instance V {\n virtual_ipaddress {\n 192.0.2.1\n }\n}\n'), [
    "/etc/keepalived/keepalived.conf:1: error: vrrp_instance V: no 'interface' set",
    "/etc/keepalived/keepalived.conf:1: error: vrrp_instance V: no valid 'virtual_router_id' (1..255) set",
  ])
})

test('duplicate VRID on one interface is an error; on another interface it is fine', async () => {
  assert.deepEqual(await errors(VI('A', 5) + VI('B', 5)), [
    '/etc/keepalived/keepalived.conf:8: error: vrrp_instance B: virtual_router_id 5 is already used by vrrp_instance A on eth0 (IPv4); VRIDs must be unique per interface',
  ])
  assert.deepEqual(await errors(VI('A', 5) + VI('B', 5, '', 'eth1')), [])
})

test('AH authentication and enable_traps are declined clearly', async () => {
  assert.deepEqual(await errors(VI('V', 1, ' authentication {\n  auth_type AH\n  auth_pass x\n }\n')), [
    '/etc/keepalived/keepalived.conf:8: error: auth_type AH is not supported by kaopsd; use PASS or none',
  ])
  assert.deepEqual(await errors('global_defs {\n enable_traps\n}\n'), [
    '/etc/keepalived/keepalived.conf:2: error: enable_traps (SNMP traps) is not supported by kaopsd; remove it (kaopsd has JSON status and Prometheus metrics instead)',
  ])
})

test('references: unknown track_script, unknown sync group member, missing virtual_server_group', async () => {
  assert.deepEqual(await errors(VI('V', 1, ' track_script {\n  nope\n }\n')), [
    "/etc/keepalived/keepalived.conf:8: error: vrrp_instance V: track_script 'nope' is not a defined vrrp_script",
  ])
  assert.deepEqual(await errors('vrrp_sync_group G {\n group {\n  X\n }\n}\n'), ["/etc/keepalived/keepalived.conf:1: error: vrrp_sync_group G: 'X' is not a defined vrrp_instance"])
  assert.deepEqual(await errors('virtual_server group NOPE {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n}\n'), [
    '/etc/keepalived/keepalived.conf:1: error: virtual_server group NOPE: no virtual_server_group with that name',
  ])
})

test('fwmark service with a protocol, as keepalived -t reports', async () => {
  assert.deepEqual(await errors('virtual_server fwmark 1 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n}\n'), [
    "/etc/keepalived/keepalived.conf:4: error: virtual_server fwmark 1: 'protocol' means nothing for a fwmark service (the mark selects the packets); remove it",
  ])
})

// A described host: what interfaces and files exist, and who owns them.
function fakeHost(files: Record<string, Partial<FileInfo>>, interfaces = ['lo', 'eth0']): HostEnv {
  const full = (p: Partial<FileInfo>): FileInfo => ({uid: 0, gid: 0, mode: 0o755, isFile: true, isDirectory: false, ...p})
  const dir = {uid: 0, gid: 0, mode: 0o755, isFile: false, isDirectory: true}
  return {
    listInterfaces: () => interfaces,
    stat: (path) => (files[path] ? full(files[path]!) : ['/', '/usr', '/usr/local', '/usr/local/bin', '/bin', '/srv', '/srv/scripts'].includes(path) ? dir : undefined),
    realpath: (path) => (files[path] || ['/', '/usr'].includes(path) ? path : undefined),
    lookupUser: (name) => ({root: {uid: 0, gid: 0}, nobody: {uid: 65534, gid: 65534}, alice: {uid: 1000, gid: 1000}})[name],
    lookupGroup: (name) => ({root: {gid: 0}, users: {gid: 100}})[name],
    pathDirs: ['/usr/local/bin', '/bin'],
  }
}

async function hostErrors(text: string, env: HostEnv): Promise<string[]> {
  const {config} = await parseConfigText(text, '/k.conf')
  return checkConfig(config, env).filter((d) => d.severity === 'error').map(formatDiagnostic)
}

test('missing interfaces: instance, track_interface, VIP dev, route dev', async () => {
  const text = 'vrrp_instance V {\n interface eth9\n virtual_router_id 1\n track_interface {\n  eth8 weight 5\n }\n virtual_ipaddress {\n  192.0.2.1 dev eth7\n }\n virtual_routes {\n  198.51.100.0/24 dev eth6\n }\n}\n'
  assert.deepEqual(await hostErrors(text, fakeHost({})), [
    "/k.conf:1: error: vrrp_instance V: interface 'eth9' does not exist",
    "/k.conf:5: error: vrrp_instance V track_interface: interface 'eth8' does not exist",
    "/k.conf:8: error: vrrp_instance V address 192.0.2.1: interface 'eth7' does not exist",
    "/k.conf:11: error: vrrp_instance V route 198.51.100.0/24: interface 'eth6' does not exist",
  ])
  assert.deepEqual(await hostErrors(text, fakeHost({}, ['eth6', 'eth7', 'eth8', 'eth9'])), [])
})

const SECURE = (script: string, extra = ''): string =>
  `global_defs {\n enable_script_security\n script_user root\n${extra}}\nvrrp_script chk {\n script "${script}"\n}\n` + VI('V', 1, ' track_script {\n  chk\n }\n')

test('script security: a root-owned 0755 script is safe; others-writable, non-root-group-writable or foreign-owned is not', async () => {
  assert.deepEqual(await hostErrors(SECURE('/usr/local/bin/ok.sh'), fakeHost({'/usr/local/bin/ok.sh': {}})), [])
  assert.deepEqual(await hostErrors(SECURE('/usr/local/bin/w.sh'), fakeHost({'/usr/local/bin/w.sh': {mode: 0o757}})), [
    "/k.conf:6: error: vrrp_script chk: unsafe script with enable_script_security: '/usr/local/bin/w.sh' is writable by every user (it runs as root)",
  ])
  assert.deepEqual(await hostErrors(SECURE('/usr/local/bin/g.sh'), fakeHost({'/usr/local/bin/g.sh': {mode: 0o775, gid: 100}})), [
    "/k.conf:6: error: vrrp_script chk: unsafe script with enable_script_security: '/usr/local/bin/g.sh' is writable by group 100, which is not root's (it runs as root)",
  ])
  assert.deepEqual(await hostErrors(SECURE('/usr/local/bin/a.sh'), fakeHost({'/usr/local/bin/a.sh': {uid: 1000}})), [
    "/k.conf:6: error: vrrp_script chk: unsafe script with enable_script_security: '/usr/local/bin/a.sh' is owned by uid 1000, who could change it (it runs as root)",
  ])
})

test('script security: a writable directory above the script is unsafe unless sticky', async () => {
  const openDir = fakeHost({'/srv/open': {isFile: false, isDirectory: true, mode: 0o777}, '/srv/open/s.sh': {}})
  assert.deepEqual(await hostErrors(SECURE('/srv/open/s.sh'), openDir), [
    "/k.conf:6: error: vrrp_script chk: unsafe script with enable_script_security: directory '/srv/open' above it is writable by every user (it runs as root)",
  ])
  const sticky = fakeHost({'/srv/open': {isFile: false, isDirectory: true, mode: 0o1777}, '/srv/open/s.sh': {}})
  assert.deepEqual(await hostErrors(SECURE('/srv/open/s.sh'), sticky), [])
})

test('script security: notify scripts are checked too; a bare name is looked up in PATH', async () => {
  const text = `global_defs {\n enable_script_security\n script_user root\n}\n` + VI('V', 1, ' notify_master "bad.sh MASTER"\n')
  assert.deepEqual(await hostErrors(text, fakeHost({'/bin/bad.sh': {mode: 0o777}})), [
    "/k.conf:11: error: vrrp_instance V notify_master: unsafe script with enable_script_security: '/bin/bad.sh' is writable by every user (it runs as root)",
  ])
})

test('missing track script is an error (keepalived disables it); missing notify script only a warning', async () => {
  const {config} = await parseConfigText('vrrp_script chk {\n script /nope/chk.sh\n}\n' + VI('V', 1, ' track_script {\n  chk\n }\n notify_master /nope/n.sh\n'), '/k.conf')
  const d = checkConfig(config, fakeHost({}))
  assert.deepEqual(d.map(formatDiagnostic), [
    "/k.conf:2: error: vrrp_script chk: script '/nope/chk.sh' not found; keepalived would disable it",
    "/k.conf:13: warning: vrrp_instance V notify_master: script '/nope/n.sh' not found",
  ])
})

test('enable_script_security without script_user and without user keepalived_script is refused', async () => {
  const text = `global_defs {\n enable_script_security\n}\nvrrp_script chk {\n script /usr/local/bin/ok.sh\n}\n` + VI('V', 1, ' track_script {\n  chk\n }\n')
  assert.deepEqual(await hostErrors(text, fakeHost({'/usr/local/bin/ok.sh': {}})), [
    "/k.conf:1: error: enable_script_security is on, no script_user is set and user 'keepalived_script' does not exist: set script_user (e.g. 'script_user root')",
  ])
})

test('script security on the real file system: a group-writable script is refused, then accepted after chmod', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to give the script a non-root group')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'kaops-config-'))
  try {
    chmodSync(dir, 0o755)
    mkdirSync(join(dir, 'bin'), {mode: 0o755})
    const script = join(dir, 'bin', 'chk.sh')
    writeFileSync(script, '#!/bin/sh\nexit 0\n', {mode: 0o775})
    chmodSync(script, 0o775)
    chownSync(script, 0, 100)
    const conf = join(dir, 'keepalived.conf')
    writeFileSync(conf, SECURE(script))
    const env = {...nodeHostEnv(), listInterfaces: () => ['eth0']}
    const bad = await checkConfigFile(conf, {env})
    assert.equal(bad.ok, false)
    assert.match(formatDiagnostic(bad.diagnostics.find((d) => d.severity === 'error')!), /keepalived\.conf:6: error: vrrp_script chk: unsafe script .* is writable by group 100/)
    chmodSync(script, 0o755)
    const good = await checkConfigFile(conf, {env})
    assert.deepEqual(good.diagnostics.filter((d) => d.severity === 'error'), [])
    assert.equal(good.ok, true)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('checkConfigFile: a missing file is not ok and says why', async () => {
  const r = await checkConfigFile('/nonexistent/keepalived.conf', {fs: memoryConfigFs({}), env: fakeHost({})})
  assert.equal(r.ok, false)
  assert.match(r.diagnostics[0]!.message, /cannot read configuration file '\/nonexistent\/keepalived.conf'/)
})

test('dumpConfig: JSON is the model, text is readable YAML without sources', async () => {
  const {config} = await parseConfigText(VI('VI_1', 51, ' advert_int 2\n'), '/k.conf')
  const json = JSON.parse(dumpConfig(config, {json: true}))
  assert.equal(json.vrrpInstances[0].name, 'VI_1')
  assert.equal(json.vrrpInstances[0].advertIntervalMs, 2000)
  assert.deepEqual(json.vrrpInstances[0].source, {file: '/k.conf', line: 1})
  const text = dumpConfig(config, {json: false})
  assert.match(text, /^# kaopsd configuration dump/)
  assert.match(text, /name: VI_1/)
  assert.match(text, /advertIntervalMs: 2000/)
  assert.doesNotMatch(text, /source/)
})
