import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {buildProbeScript, parseAddresses, parseProbeOutput} from '../../src/remote/state-probe.js'

const b64 = (s: string) => Buffer.from(s).toString('base64')
const req = {files: ['/etc/kaops/keepalived.conf', '/etc/sysctl.d/90-kaops.conf'], sysctl: ['net.ipv4.ip_forward', 'net.ipv4.ip_local_port_range'], units: ['kaopsd.service']}
const sha = 'a'.repeat(64)
const ipj = JSON.stringify([
  {ifname: 'lo', addr_info: [{family: 'inet', local: '127.0.0.1', prefixlen: 8}, {family: 'inet', local: '198.18.0.100', prefixlen: 32}]},
  {ifname: 'eth0', addr_info: [{family: 'inet', local: '198.18.0.11', prefixlen: 24}, {family: 'inet6', local: 'fe80::1', prefixlen: 64}]},
])

// A report as a director prints it (recorded format).
const REPORT = [
  'KAOPS-PROBE 1',
  `F 0 1 ${sha} 600 12 b:${b64('vrrp_instance')}`,
  'F 1 0',
  `MF ${b64('/etc/kaops/old file.sh')} 1 ${sha} 755 99999999 -`,
  `S 0 1 ${b64('1\n')}`,
  `S 1 1 ${b64('32768\t60999\n')}`,
  'U 0 enabled active',
  `B 1 ${sha} ${b64('kaopsd 0.1.0\n')}`,
  `FW nftables 1 ${b64('table inet kaops_vrrp {\n}')}`,
  'FW iptables 0 -',
  `A json ${b64(ipj)}`,
  `ST ${b64('{"instances":[{"name":"VI_1","state":"MASTER"}]}')}`,
  'END',
  '',
].join('\n')

test('a full report parses into ActualHost', () => {
  const h = parseProbeOutput('dir1', req, REPORT)
  assert.deepEqual(h.files[0], {path: '/etc/kaops/keepalived.conf', exists: true, sha256: sha, mode: 0o600, size: 12, content: 'vrrp_instance'})
  assert.deepEqual(h.files[1], {path: '/etc/sysctl.d/90-kaops.conf', exists: false})
  assert.deepEqual(h.files[2], {path: '/etc/kaops/old file.sh', exists: true, sha256: sha, mode: 0o755, size: 99999999})
  assert.deepEqual(h.managedPaths, ['/etc/kaops/old file.sh'])
  assert.deepEqual(h.sysctl, [{key: 'net.ipv4.ip_forward', value: '1'}, {key: 'net.ipv4.ip_local_port_range', value: '32768 60999'}])
  assert.deepEqual(h.units, [{name: 'kaopsd.service', enabled: 'enabled', active: 'active'}])
  assert.deepEqual(h.binary, {path: '/opt/kaops/current/kaopsd', exists: true, sha256: sha, version: 'kaopsd 0.1.0'})
  assert.deepEqual(h.firewall, {flavour: 'nftables', vrrpRulesPresent: true, rules: 'table inet kaops_vrrp {\n}'})
  assert.ok(h.addresses.some((a) => a.ifname === 'lo' && a.cidr === '198.18.0.100/32'))
  assert.equal(h.addresses.length, 4)
  assert.deepEqual(h.kaopsdStatus, {instances: [{name: 'VI_1', state: 'MASTER'}]})
})

test('truncated, foreign or malformed output is an error naming the host and line', () => {
  assert.throws(() => parseProbeOutput('dir1', req, REPORT.replace('END\n', '')), /probe output of dir1: truncated/)
  assert.throws(() => parseProbeOutput('dir1', req, 'bash: sh: not found\n'), /probe output of dir1, line 1: not a kaops probe report/)
  assert.throws(() => parseProbeOutput('dir1', req, REPORT.replace('F 1 0', 'F 7 0')), /line 3: index 7 out of range/)
  assert.throws(() => parseProbeOutput('dir1', req, REPORT.replace('F 1 0\n', '')), /no record for \/etc\/sysctl.d\/90-kaops.conf/)
  assert.throws(() => parseProbeOutput('dir1', req, REPORT.replace('U 0', 'Q 0')), /unknown record "Q"/)
})

test('ip -o addr text fallback', () => {
  const text = '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n2: eth0@if7    inet 198.18.0.11/24 brd 198.18.0.255 scope global eth0\n'
  assert.deepEqual(parseAddresses('text', text), [
    {ifname: 'lo', cidr: '127.0.0.1/8', family: 'inet'},
    {ifname: 'eth0', cidr: '198.18.0.11/24', family: 'inet'},
  ])
})

test('the probe script runs under a POSIX sh and its output parses', (t) => {
  // dash is Debian's /bin/sh: it rejects bash-isms, which is what we want to prove.
  let out: string
  const local = {files: ['/etc/passwd', '/nonexistent/a b'], sysctl: ['net.ipv4.ip_forward', 'no.such.key'], units: []}
  try {
    out = execFileSync('/bin/sh', ['-s'], {input: buildProbeScript(local), encoding: 'utf8', timeout: 20_000})
  } catch (error) {
    t.skip(`no runnable /bin/sh here: ${(error as Error).message}`)
    return
  }
  const h = parseProbeOutput('localhost', local, out)
  assert.equal(h.files[0]!.exists, true)
  assert.match(h.files[0]!.content ?? '', /^root:/)
  assert.equal(h.files[1]!.exists, false)
  assert.match(h.sysctl[0]!.value ?? '', /^[01]$/)
  assert.equal(h.sysctl[1]!.value, undefined)
  assert.ok(h.addresses.some((a) => a.ifname === 'lo'))
})
