// Rendering: determinism, secrets staying where they belong, and the derived parts (unicast
// peers, priorities from an ordered list, sysctl, loopback VIPs, firewall flavours).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'
import {checkInventoryText} from '../../src/inventory/load.js'
import type {SecretSources} from '../../src/inventory/secrets.js'
import {renderHosts} from '../../src/render/render-hosts.js'
import {redactSecrets, writeRenderedTree} from '../../src/render/write-tree.js'
import {KAOPSD_CONFIG_PATH, MANAGED_HEADER} from '../../src/render/paths.js'
import type {Inventory} from '../../src/model/inventory.js'

const SECRET = 'Pa55-w0d'
const src = (env: Record<string, string>): SecretSources => ({env, readFile: () => { throw new Error('no files here') }, baseDir: '/'})

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function load(doc: any, env: Record<string, string> = {P: SECRET}): Inventory {
  const r = checkInventoryText(stringify(doc), 'inv.yaml', {secrets: src(env)})
  assert.deepEqual(r.problems, [])
  return r.inventory!
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const doc = (): any => ({
  apiVersion: 'kaops/v1',
  directors: [
    {name: 'a', address: '198.18.7.1/24', interface: 'eth0'},
    {name: 'b', address: '198.18.7.2/24', interface: 'eth0'},
    {name: 'c', address: '198.18.7.3/24', interface: 'eth0'},
  ],
  vips: [{name: 'V', vrid: 9, addresses: ['198.18.7.100/24'], directors: ['b', 'a', 'c'], unicast: true, authentication: {type: 'PASS', secret: {env: 'P'}}}],
  services: [
    {name: 's', vip: 'V', port: 80, forwarding: 'DR', realServers: [{name: 'r'}]},
    {name: 'n', vip: 'V', port: 81, forwarding: 'NAT', realServers: [{name: 'r'}]},
  ],
  realServers: [{name: 'r', address: '198.18.7.20/24'}],
  probes: [{name: 'p', address: '198.18.7.30/24'}],
})

const file = (inv: Inventory, host: string, suffix: string): string => {
  const f = renderHosts(inv).find((h) => h.name === host)!.files.find((x) => x.path.endsWith(suffix))
  assert.ok(f, `${host} has a file ending in ${suffix}`)
  return f.content
}

test('rendering twice gives the same bytes', () => {
  const one = JSON.stringify(renderHosts(load(doc())))
  const two = JSON.stringify(renderHosts(load(doc())))
  assert.equal(one, two)
  const inv = load(doc())
  assert.equal(JSON.stringify(renderHosts(inv)), JSON.stringify(renderHosts(inv)))
})

test('every file starts with the managed header (after a shebang or XML declaration)', () => {
  for (const h of renderHosts(load({...doc(), hostSetup: {firewall: 'firewalld'}}))) {
    for (const f of h.files) assert.ok(f.content.split('\n').slice(0, 2).some((l) => l.includes(MANAGED_HEADER)), `${h.name}:${f.path}`)
  }
})

test('priorities from an ordered list, state, unicast peers derived from the directors', () => {
  const inv = load(doc())
  const b = file(inv, 'b', 'keepalived.conf')
  assert.match(b, /state MASTER\n\s+interface eth0\n\s+virtual_router_id 9\n\s+priority 150\n/)
  assert.match(b, /unicast_src_ip 198\.18\.7\.2\n\s+unicast_peer {\n\s+198\.18\.7\.1\n\s+198\.18\.7\.3\n\s+}/)
  assert.match(file(inv, 'a', 'keepalived.conf'), /state BACKUP[\s\S]*priority 100\n/)
  assert.match(file(inv, 'c', 'keepalived.conf'), /priority 50\n/)
  const hosts = renderHosts(inv)
  assert.deepEqual(hosts.find((h) => h.name === 'a')!.vips, [{instance: 'V', vrid: 9, addresses: ['198.18.7.100/24'], expectedMaster: 'b'}])
  // Firewall: unicast rules per peer, in by source, out by destination.
  const nft = file(inv, 'a', '.nft')
  assert.match(nft, /iifname "eth0" ip saddr 198\.18\.7\.2 ip protocol 112 accept/)
  assert.match(nft, /oifname "eth0" ip daddr 198\.18\.7\.3 ip protocol 112 accept/)
  assert.doesNotMatch(nft, /224\.0\.0\.18|198\.18\.7\.1 /)
})

test('nopreempt makes every director start as BACKUP', () => {
  const d = doc()
  d.vips[0].nopreempt = true
  const inv = load(d)
  for (const h of ['a', 'b', 'c']) assert.match(file(inv, h, 'keepalived.conf'), /state BACKUP\n[\s\S]*nopreempt\n/)
})

test('sysctl: ip_forward with a NAT service, nonlocal bind for a VIP without service, DR real server arp and lo VIP', () => {
  const inv = load(doc())
  const a = renderHosts(inv).find((h) => h.name === 'a')!
  assert.deepEqual(a.sysctl, [{key: 'net.ipv4.ip_forward', value: '1'}])
  const d2 = doc()
  d2.services = []
  const nginx = renderHosts(load(d2)).find((h) => h.name === 'a')!
  assert.deepEqual(nginx.sysctl, [{key: 'net.ipv4.ip_nonlocal_bind', value: '1'}])
  const r = renderHosts(inv).find((h) => h.name === 'r')!
  assert.deepEqual(r.loopbackVips, ['198.18.7.100/32'])
  assert.deepEqual(r.units, [{name: 'kaops-lo-vip.service', enabled: true, active: true}])
  for (const scope of ['all', 'default', 'lo']) {
    assert.ok(r.sysctl.some((s) => s.key === `net.ipv4.conf.${scope}.arp_ignore` && s.value === '1'))
    assert.ok(r.sysctl.some((s) => s.key === `net.ipv4.conf.${scope}.arp_announce` && s.value === '2'))
  }
  assert.match(file(inv, 'r', 'kaops-lo-vip.service'), /Type=oneshot\nRemainAfterExit=yes\nExecStart=\/sbin\/ip address replace 198\.18\.7\.100\/32 dev lo\nExecStop=-\/sbin\/ip address del 198\.18\.7\.100\/32 dev lo/)
  // prepare: false -> nothing to manage there.
  const d3 = doc()
  d3.realServers[0].prepare = false
  const r3 = renderHosts(load(d3)).find((h) => h.name === 'r')!
  assert.deepEqual([r3.files, r3.sysctl, r3.loopbackVips], [[], [], []])
  assert.deepEqual(renderHosts(inv).find((h) => h.name === 'p')!.roles, ['probe'])
})

test('firewall flavours: firewalld direct XML, iptables fragment, none; AH adds protocol 51', () => {
  const fd = load({...doc(), hostSetup: {firewall: 'firewalld'}})
  assert.match(file(fd, 'a', 'direct.xml'), /<rule ipv="ipv4" table="filter" chain="INPUT" priority="0">-i eth0 -s 198\.18\.7\.2 -p 112 -j ACCEPT<\/rule>/)
  const ipt = load({...doc(), hostSetup: {firewall: 'iptables'}})
  assert.match(file(ipt, 'a', 'kaops-vrrp.rules'), /^\*filter\n:KAOPS-VRRP-IN - \[0:0\]\n:KAOPS-VRRP-OUT - \[0:0\]\n-A KAOPS-VRRP-IN -i eth0 -s 198\.18\.7\.2 -p 112 -j ACCEPT$/m)
  const none = renderHosts(load({...doc(), hostSetup: {firewall: 'none'}})).find((h) => h.name === 'a')!
  assert.ok(!none.files.some((f) => /nft|firewall|iptables/.test(f.path)))
  assert.deepEqual(none.units.map((u) => `${u.name} ${u.enabled && u.active ? 'on' : 'off'}`), ['kaopsd.service on', 'keepalived.service off'], 'kaopsd runs, the keepalived it replaces does not')
  const d = doc()
  d.vips[0].unicast = false
  d.vips[0].authentication.type = 'AH'
  assert.match(file(load(d), 'a', '.nft'), /iifname "eth0" ip daddr 224\.0\.0\.18 ip protocol \{ 51, 112 \} accept/)
})

test('kaopsd unit points at the binary and config paths; release info when given', () => {
  const inv = load(doc())
  const unit = file(inv, 'a', 'kaopsd.service')
  assert.match(unit, /^ExecStart=\/opt\/kaops\/current\/kaopsd -n -l -f \/etc\/kaopsd\/keepalived\.conf$/m)
  const withRelease = renderHosts(inv, {kaopsdVersion: '0.1.0', kaopsdSha256: 'ab'.repeat(32)})[0]!.files.find((f) => f.path.endsWith('kaopsd.service'))!
  assert.match(withRelease.content, /# kaopsd release: 0\.1\.0 sha256 (ab){32}/)
})

test('the secret appears only in keepalived.conf, which declares it', async () => {
  const inv = load(doc())
  const hosts = renderHosts(inv)
  for (const h of hosts) {
    for (const f of h.files) {
      if (f.path === KAOPSD_CONFIG_PATH) {
        assert.ok(f.content.includes(`auth_pass ${SECRET}`))
        assert.deepEqual(f.secrets, [SECRET])
        assert.equal(f.mode, 0o600)
        assert.ok(!redactSecrets(f.content, f.secrets).includes(SECRET))
      } else assert.ok(!f.content.includes(SECRET), `${h.name}:${f.path}`)
    }
    // Everything but file contents: models, ssh targets, vips.
    assert.ok(!JSON.stringify({...h, files: h.files.map((f) => f.path)}).includes(SECRET))
  }
  assert.ok(!JSON.stringify(inv).includes(SECRET))
  // Errors: a bad inventory with the secret set never repeats it.
  const bad = doc()
  bad.vips[0].vrid = 999
  const r = checkInventoryText(stringify(bad), 'inv.yaml', {secrets: src({P: SECRET})})
  assert.ok(r.problems.length > 0 && !JSON.stringify(r.problems).includes(SECRET))
  const long = checkInventoryText(stringify(doc()), 'inv.yaml', {secrets: src({P: `${SECRET}-too-long`})})
  assert.ok(long.problems.length === 1 && !JSON.stringify(long.problems).includes(SECRET))
  // render --redact on disk.
  const dir = mkdtempSync(join(tmpdir(), 'kaops-render-'))
  try {
    const written = await writeRenderedTree(hosts, dir, {redact: true})
    assert.equal(written.length, hosts.reduce((n, h) => n + h.files.length, 0))
    for (const w of written) assert.ok(!readFileSync(w.local, 'utf8').includes(SECRET))
    const plain = await writeRenderedTree(hosts, dir)
    const conf = plain.find((w) => w.host === 'a' && w.path === KAOPSD_CONFIG_PATH)!
    assert.equal(statSync(conf.local).mode & 0o777, 0o600)
    assert.ok(conf.secret)
    assert.deepEqual(readdirSync(dir).sort(), ['a', 'b', 'c', 'r'])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
