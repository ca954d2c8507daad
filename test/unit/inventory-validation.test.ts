// One test per validation message: schema, YAML, semantic and secret problems, each placed at
// file:line:column on the line that holds the offending key.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'
import {checkInventoryText, loadInventory, validateInventoryText, type Problem} from '../../src/inventory/load.js'
import type {SecretSources} from '../../src/inventory/secrets.js'
import {KaopsError} from '../../src/model/errors.js'

const SECRET = 'Zq7-xY9w'
const sources = (env: Record<string, string> = {VRRP_PASS: SECRET}, files: Record<string, string> = {}): SecretSources => ({
  env,
  readFile: (p) => {
    if (p in files) return files[p]!
    throw Object.assign(new Error('nope'), {code: 'ENOENT'})
  },
  baseDir: '/inv',
})

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any
function base(): Doc {
  return {
    apiVersion: 'kaops/v1',
    kind: 'Inventory',
    metadata: {name: 't'},
    directors: [
      {name: 'd1', address: '198.18.0.11/24', interface: 'eth0'},
      {name: 'd2', address: '198.18.0.12/24', interface: 'eth0'},
    ],
    vips: [
      {
        name: 'VI_1',
        vrid: 51,
        addresses: ['198.18.0.100/24'],
        priorities: {d1: 150, d2: 100},
        authentication: {type: 'PASS', secret: {env: 'VRRP_PASS'}},
      },
    ],
    services: [
      {name: 'web', vip: 'VI_1', port: 80, forwarding: 'DR', healthCheck: {type: 'TCP_CHECK'}, realServers: [{name: 'r1'}, {name: 'r2'}]},
    ],
    realServers: [
      {name: 'r1', address: '198.18.0.21/24'},
      {name: 'r2', address: '198.18.0.22/24'},
    ],
  }
}

function problems(doc: Doc | string, src = sources()): {list: Problem[]; text: string} {
  const text = typeof doc === 'string' ? doc : stringify(doc)
  return {list: validateInventoryText(text, 'inv.yaml', {secrets: src}), text}
}

/** Exactly one problem matching `message`, at `path`, on a line that contains `onLine`. */
function expectProblem(mutate: (d: Doc) => void, path: string, message: RegExp, onLine?: RegExp, src?: SecretSources): void {
  const d = base()
  mutate(d)
  const {list, text} = problems(d, src)
  const hits = list.filter((p) => message.test(p.message))
  assert.equal(hits.length, 1, `expected one problem matching ${message}, got:\n${list.map((p) => `${p.path}: ${p.message}`).join('\n')}`)
  const p = hits[0]!
  assert.equal(p.path, path)
  assert.equal(p.file, 'inv.yaml')
  assert.ok(p.line >= 1 && p.column >= 1)
  if (onLine) assert.match(text.split('\n')[p.line - 1]!, onLine, `line ${p.line} of\n${text}`)
  for (const q of list) assert.ok(!q.message.includes(SECRET), 'a problem must never show a secret')
}

test('the base inventory is valid', () => {
  assert.deepEqual(problems(base()).list, [])
})

// --- YAML and schema ---
test('YAML syntax error is placed', () => {
  const {list} = problems('apiVersion: kaops/v1\ndirectors: [\n  {name: a\n')
  assert.ok(list.length >= 1)
  assert.ok(list[0]!.line >= 2)
})
test('duplicate key is a YAML error', () => {
  const {list} = problems('apiVersion: kaops/v1\napiVersion: kaops/v1\ndirectors: []\nvips: []\n')
  assert.ok(list.some((p) => /unique|duplicate/i.test(p.message) && p.line === 2), JSON.stringify(list))
})
test('a document that is not a mapping', () => {
  const {list} = problems('- a\n- b\n')
  assert.match(list[0]!.message, /is a YAML mapping/)
})
test('unknown key, with a suggestion', () => expectProblem((d) => (d.directors[0].adress = 'x'), 'directors[0].adress', /unknown key "adress" \(did you mean "address"\?\)/, /adress/))
test('missing required key', () => expectProblem((d) => delete d.vips[0].vrid, 'vips[0]', /missing required key "vrid"/, /name: VI_1/))
test('wrong apiVersion', () => expectProblem((d) => (d.apiVersion = 'kaops/v2'), 'apiVersion', /must be "kaops\/v1"/, /apiVersion/))
test('enum value', () => expectProblem((d) => (d.services[0].forwarding = 'FULLNAT'), 'services[0].forwarding', /must be one of: "NAT", "DR", "TUN"/, /forwarding/))
test('VRID above 255', () => expectProblem((d) => (d.vips[0].vrid = 300), 'vips[0].vrid', /must be <= 255/, /vrid: 300/))
test('bad name', () => expectProblem((d) => (d.directors[0].name = '1bad'), 'directors[0].name', /must be a name/, /1bad/))
test('not an address', () => expectProblem((d) => (d.directors[1].address = 'lb-two'), 'directors[1].address', /must be an IP address/, /lb-two/))
test('bad sysctl key', () => expectProblem((d) => (d.hostSetup = {sysctl: {'no dots': 1}}), 'hostSetup.sysctl.no dots', /must be a sysctl key/, /no dots/))

// --- semantic ---
test('ssh.host among the defaults', () => expectProblem((d) => (d.ssh = {host: 'mgmt.example.net'}), 'ssh.host', /ssh\.host sends every host to one address/, /host:/))
test('address that is not one', () => expectProblem((d) => (d.realServers[0].address = '198.18.0.999/24'), 'realServers[0].address', /is not a valid IP address/, /999/))
test('duplicate host name', () => expectProblem((d) => (d.realServers[1].name = 'd1'), 'realServers[1].name', /duplicate host name "d1" \(already used at directors\[0\]\)/))
test('duplicate host address', () => expectProblem((d) => (d.realServers[1].address = '198.18.0.21/24'), 'realServers[1].address', /address 198.18.0.21 is already used by r1/))
test('duplicate VIP name', () => expectProblem((d) => d.vips.push({...d.vips[0], vrid: 52, addresses: ['198.18.0.101/24']}), 'vips[1].name', /duplicate VIP name "VI_1"/))
test('VRRPv2 with an IPv6 address', () => expectProblem((d) => d.vips[0].addresses.push('2001:db8::1/64'), 'vips[0].addresses[1]', /VRRP version 2 carries IPv4 only/))
test('priorities and directors both given', () => expectProblem((d) => (d.vips[0].directors = ['d1', 'd2']), 'vips[0].directors', /either priorities or directors, not both/, /directors:/))
test('neither priorities nor directors', () => expectProblem((d) => delete d.vips[0].priorities, 'vips[0]', /needs priorities/))
test('unknown director in priorities', () => expectProblem((d) => (d.vips[0].priorities.d3 = 50), 'vips[0].priorities.d3', /unknown director "d3" in the priorities of VI_1/, /d3/))
test('priority outside 1..254', () => expectProblem((d) => (d.vips[0].priorities.d1 = 255), 'vips[0].priorities.d1', /priority 255 for d1 is outside 1..254/, /d1: 255/))
test('two directors with one priority', () => expectProblem((d) => (d.vips[0].priorities.d2 = 150), 'vips[0].priorities.d2', /directors d1 and d2 both have priority 150 for VI_1/, /d2: 150/))
test('unknown director in the ordered list', () =>
  expectProblem((d) => {
    delete d.vips[0].priorities
    d.vips[0].directors = ['d1', 'dx']
  }, 'vips[0].directors[1]', /unknown director "dx" in the directors of VI_1/))
test('director listed twice', () =>
  expectProblem((d) => {
    delete d.vips[0].priorities
    d.vips[0].directors = ['d1', 'd1']
  }, 'vips[0].directors[1]', /director d1 is listed twice/))
test('advert interval VRRPv2 cannot carry', () => expectProblem((d) => (d.vips[0].advertInterval = 0.5), 'vips[0].advertInterval', /advert interval 0.5 cannot be carried by VRRP version 2/, /advertInterval/))
test('advert interval VRRPv3 cannot carry', () =>
  expectProblem((d) => {
    delete d.vips[0].authentication
    Object.assign(d.vips[0], {version: 3, advertInterval: 41})
  }, 'vips[0].advertInterval', /cannot be carried by VRRP version 3/))
test('VRRPv3 with authentication', () => expectProblem((d) => (d.vips[0].version = 3), 'vips[0].authentication', /version 3 has no authentication/, /authentication:/))
test('secret reference with both env and file', () => expectProblem((d) => (d.vips[0].authentication.secret.file = '/x'), 'vips[0].authentication.secret', /exactly one of env or file/))
test('preemptDelay with nopreempt', () => expectProblem((d) => Object.assign(d.vips[0], {nopreempt: true, preemptDelay: 10}), 'vips[0].preemptDelay', /no effect with nopreempt/, /preemptDelay/))
test('VRRP on lo', () => expectProblem((d) => (d.vips[0].interface = 'lo'), 'vips[0].interface', /d1 would run VI_1 on lo: VRRP needs the director's network interface/, /interface: lo/))
test('VIP outside its interface subnet', () => expectProblem((d) => (d.vips[0].addresses = ['198.18.9.100/24']), 'vips[0].addresses[0]', /VIP address 198.18.9.100 is outside 198.18.0.0\/24, the subnet of d1's interface eth0/, /198.18.9.100/))
test('duplicate VRID on a segment', () => expectProblem((d) => d.vips.push({name: 'VI_2', vrid: 51, addresses: ['198.18.0.101/24'], priorities: {d1: 100, d2: 150}}), 'vips[1].vrid', /VRID 51 is already used by VI_1 on the same segment \(198.18.0.0\/24\)/))
test('the same VRID on another segment is fine', () => {
  const d = base()
  d.directors.push({name: 'd3', address: '198.18.5.13/24', interface: 'eth0'}, {name: 'd4', address: '198.18.5.14/24', interface: 'eth0'})
  d.vips.push({name: 'VI_2', vrid: 51, addresses: ['198.18.5.100/24'], priorities: {d3: 100, d4: 150}})
  assert.deepEqual(problems(d).list, [])
})
test('track interface twice', () => expectProblem((d) => (d.vips[0].trackInterfaces = ['eth1', 'eth1']), 'vips[0].trackInterfaces[1]', /tracked twice/))
test('tracking the VRRP interface itself', () => expectProblem((d) => (d.vips[0].trackInterfaces = ['eth0']), 'vips[0].trackInterfaces[0]', /eth0 is d1's VRRP interface for VI_1, which is always tracked/))
test('one track script name, two definitions', () =>
  expectProblem((d) => {
    d.vips[0].trackScripts = [{name: 'chk', script: '/bin/true'}]
    d.vips.push({name: 'VI_2', vrid: 52, addresses: ['198.18.0.101/24'], priorities: {d1: 100, d2: 150}, trackScripts: [{name: 'chk', script: '/bin/false'}]})
  }, 'vips[1].trackScripts[0].name', /track script "chk" is defined twice/))
test('sync group without members', () => expectProblem((d) => (d.syncGroups = [{name: 'G'}]), 'syncGroups[0].name', /sync group "G" has no member/))
test('duplicate service name', () => expectProblem((d) => d.services.push({...d.services[0], port: 81}), 'services[1].name', /duplicate service name "web"/))
test('service VIP not defined', () => expectProblem((d) => (d.services[0].vip = 'VI_9'), 'services[0].vip', /names VIP "VI_9", which is not defined under vips/, /VI_9/))
test('service without vip or address', () => expectProblem((d) => delete d.services[0].vip, 'services[0]', /needs a vip or an address/))
test('service address on no VIP', () =>
  expectProblem((d) => {
    delete d.services[0].vip
    d.services[0].address = '198.18.0.77'
  }, 'services[0].address', /service address 198.18.0.77 is on no VIP/))
test("service address not one of its VIP's", () => expectProblem((d) => (d.services[0].address = '198.18.0.77'), 'services[0].address', /is not one of VI_1's addresses \(198.18.0.100\)/))
test('two services on one endpoint', () => expectProblem((d) => d.services.push({...d.services[0], name: 'web2'}), 'services[1].port', /services web and web2 both balance 198.18.0.100:80\/TCP/))
test('hysteresis without quorum', () => expectProblem((d) => (d.services[0].hysteresis = 1), 'services[0].hysteresis', /hysteresis needs a quorum/))
test('quorum above total weight', () => expectProblem((d) => (d.services[0].quorum = 5), 'services[0].quorum', /quorum 5 is more than the total weight/))
test("service's real server not defined", () => expectProblem((d) => (d.services[0].realServers[1].name = 'r9'), 'services[0].realServers[1].name', /real server "r9" is not defined under realServers/, /r9/))
test('real server listed twice in a service', () => expectProblem((d) => (d.services[0].realServers[1].name = 'r1'), 'services[0].realServers[1]', /real server r1:80 is listed twice in web/))
test('MISC_CHECK without a script', () => expectProblem((d) => (d.services[0].healthCheck = {type: 'MISC_CHECK'}), 'services[0].healthCheck', /a MISC_CHECK needs a script/))
test('script on a TCP_CHECK', () => expectProblem((d) => (d.services[0].healthCheck.script = '/bin/true'), 'services[0].healthCheck.script', /script only applies to MISC_CHECK/))
test('HTTP_GET without a path', () => expectProblem((d) => (d.services[0].healthCheck = {type: 'HTTP_GET', statusCode: 200}), 'services[0].healthCheck', /a HTTP_GET check needs a path/))
test('HTTP_GET without status or digest', () => expectProblem((d) => (d.services[0].healthCheck = {type: 'HTTP_GET', path: '/'}), 'services[0].healthCheck', /needs a statusCode or a digest/))
test('path on a TCP_CHECK', () => expectProblem((d) => (d.services[0].healthCheck.path = '/'), 'services[0].healthCheck.path', /path only applies to HTTP_GET and SSL_GET/))
test('persistence granularity must be an IPv4 mask', () => expectProblem((d) => (d.services[0].persistence = {timeout: 5, granularity: 'ffff::'}), 'services[0].persistence.granularity', /IPv4 netmask/))

// --- secrets ---
test('missing secret names the VIP and the variable', () => {
  expectProblem(() => {}, 'vips[0].authentication.secret', /VIP VI_1: the authentication secret is missing: environment variable VRRP_PASS is not set/, /env: VRRP_PASS/, sources({}))
})
test('unreadable secret file names the VIP and the file', () =>
  expectProblem((d) => (d.vips[0].authentication.secret = {file: 'pass.txt'}), 'vips[0].authentication.secret', /VIP VI_1: .*secret file pass.txt cannot be read \(ENOENT\)/))
test('a PASS secret longer than 8 characters', () => expectProblem(() => {}, 'vips[0].authentication.secret', /longer than 8 characters/, undefined, sources({VRRP_PASS: 'x'.repeat(9)})))
test('secrets: env, relative file (trailing newline dropped), default', () => {
  const d = base()
  d.vips[0].authentication.secret = {file: 'pass.txt'}
  const r = checkInventoryText(stringify(d), 'inv.yaml', {secrets: sources({}, {'/inv/pass.txt': 'fromfile\n'})})
  assert.equal(r.inventory?.secrets.VI_1?.reveal(), 'fromfile')
  d.vips[0].authentication.secret = {env: 'UNSET', default: 'labonly'}
  const r2 = checkInventoryText(stringify(d), 'inv.yaml', {secrets: sources({})})
  assert.equal(r2.inventory?.secrets.VI_1?.reveal(), 'labonly')
  const r3 = checkInventoryText(stringify(base()), 'inv.yaml', {secrets: sources()})
  assert.equal(r3.inventory?.secrets.VI_1?.reveal(), SECRET)
  assert.equal(JSON.stringify(r3.inventory).includes(SECRET), false, 'a serialised inventory hides secrets')
  assert.equal(String(r3.inventory?.secrets.VI_1), '[secret]')
})
test('--no-secrets validation skips resolving them', () => {
  assert.deepEqual(validateInventoryText(stringify(base()), 'inv.yaml', {secrets: false}), [])
})

// --- loadInventory ---
test('loadInventory throws KaopsError (exit 1) listing every problem as file:line:col', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaops-inv-'))
  try {
    const d = base()
    d.vips[0].vrid = 0
    d.services[0].realServers[0].name = 'nope'
    writeFileSync(join(dir, 'i.yaml'), stringify(d))
    await assert.rejects(loadInventory(join(dir, 'i.yaml')), (e: unknown) => {
      assert.ok(e instanceof KaopsError)
      assert.equal(e.exit, 1)
      assert.match(e.message, /1 problem in the inventory:\n  .*i\.yaml:\d+:\d+: vips\[0\]\.vrid: must be >= 1/)
      return true
    })
    d.vips[0].vrid = 51
    writeFileSync(join(dir, 'i.yaml'), stringify(d))
    await assert.rejects(loadInventory(join(dir, 'i.yaml'), {secrets: sources()}), /real server "nope" is not defined/)
    await assert.rejects(loadInventory(join(dir, 'missing.yaml')), /cannot read the inventory \(ENOENT\)/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('example inventories point editors at the published schema', async () => {
  const {readdirSync, readFileSync, existsSync} = await import('node:fs')
  const dir = join(import.meta.dirname, '..', '..', 'inventories')
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'))
  assert.ok(files.includes('lab.yaml') && files.includes('prod.yaml'))
  for (const f of files) {
    const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(readFileSync(join(dir, f), 'utf8'))
    assert.ok(m, `${f} has a yaml-language-server $schema line`)
    assert.ok(existsSync(join(dir, m[1]!)), `${f}: ${m[1]} exists`)
  }
})
