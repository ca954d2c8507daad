import {test} from 'node:test'
import assert from 'node:assert/strict'
import {checkInvariants, allHold} from '../../src/verify/invariants.js'
import {instanceFields} from '../../src/verify/instance-config.js'
import {findVrrpBlockers} from '../../src/verify/firewall-scan.js'
import type {CheckResult} from '../../src/model/verify.js'
import {healthyLab, MAC, stats} from './verify-fixtures.js'

const find = (cs: CheckResult[], id: string, subject?: string) => {
  const c = cs.find((x) => x.id === id && (subject === undefined || x.subject === subject))
  assert.ok(c, `no check ${id} ${subject ?? ''}`)
  return c
}
const failing = (cs: CheckResult[]) => cs.filter((c) => c.status === 'fail').map((c) => `${c.id} ${c.subject}`)

test('a healthy lab passes every invariant, each kind present', async () => {
  const {inv, desired, facts} = await healthyLab()
  const cs = checkInvariants(inv, desired, facts)
  assert.deepEqual(failing(cs), [])
  assert.ok(allHold(cs))
  for (const id of ['host.reachable', 'kaopsd.running', 'daemon.alone', 'kaopsd.release', 'kaopsd.config', 'firewall.vrrp', 'vip.placement', 'vrrp.peers-agree', 'vrrp.adverts', 'vrrp.rx-errors', 'rs.lo-vip', 'rs.arp-sysctl', 'arp.owner', 'service.realservers']) {
    assert.equal(find(cs, id).status, 'pass', id)
  }
  assert.match(find(cs, 'vip.placement').message, /held by dir1 only/)
})

test('VIP added by hand on the backup: split brain, and the backup is not MASTER', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.dir2!.actual!.addresses.push({ifname: 'eth0', cidr: '198.18.0.100/32', family: 'inet'})
  const c = find(checkInvariants(inv, desired, facts), 'vip.placement')
  assert.equal(c.status, 'fail')
  assert.match(c.message, /split brain: 198\.18\.0\.100\/24 held by dir1 and dir2/)
})

test('only the backup holds it while its kaopsd says BACKUP: named as left behind', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.dir1!.actual!.addresses.pop()
  facts.hosts.dir2!.actual!.addresses.push({ifname: 'eth0', cidr: '198.18.0.100/24', family: 'inet'})
  const c = find(checkInvariants(inv, desired, facts), 'vip.placement')
  assert.equal(c.status, 'fail')
  assert.match(c.message, /dir2 holds the VIP but its kaopsd is BACKUP/)
})

test('no holder: outage', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.dir1!.actual!.addresses.pop()
  const c = find(checkInvariants(inv, desired, facts), 'vip.placement')
  assert.equal(c.status, 'fail')
  assert.match(c.message, /^outage: no director holds 198\.18\.0\.100/)
})

test('backup holds it because the master is in FAULT (track script): pass with the reason', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.dir1!.actual!.addresses.pop()
  facts.hosts.dir2!.actual!.addresses.push({ifname: 'eth0', cidr: '198.18.0.100/24', family: 'inet'})
  const s1 = facts.hosts.dir1!.extra!.status2!.instances[0]!
  s1.state = 'FAULT'
  facts.hosts.dir2!.extra!.status2!.instances[0]!.state = 'MASTER'
  const c = find(checkInvariants(inv, desired, facts), 'vip.placement')
  assert.equal(c.status, 'pass', c.message)
  assert.match(c.message, /dir1: FAULT/)
})

test('backup holds it with a lowered master priority from tracking: pass with the reason', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.dir1!.actual!.addresses.pop()
  facts.hosts.dir2!.actual!.addresses.push({ifname: 'eth0', cidr: '198.18.0.100/24', family: 'inet'})
  facts.hosts.dir1!.extra!.status2!.instances[0]!.effectivePriority = 90
  facts.hosts.dir1!.extra!.status2!.instances[0]!.state = 'BACKUP'
  facts.hosts.dir2!.extra!.status2!.instances[0]!.state = 'MASTER'
  const c = find(checkInvariants(inv, desired, facts), 'vip.placement')
  assert.equal(c.status, 'pass', c.message)
  assert.match(c.message, /priority 150 lowered to 90 by tracking/)
})

test('nopreempt: the backup keeping the VIP passes; with preempt it fails', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.dir1!.actual!.addresses.pop()
  facts.hosts.dir2!.actual!.addresses.push({ifname: 'eth0', cidr: '198.18.0.100/24', family: 'inet'})
  facts.hosts.dir1!.extra!.status2!.instances[0]!.state = 'BACKUP'
  facts.hosts.dir2!.extra!.status2!.instances[0]!.state = 'MASTER'
  assert.equal(find(checkInvariants(inv, desired, facts), 'vip.placement').status, 'fail')
  inv.vips[0]!.preempt = false
  const c = find(checkInvariants(inv, desired, facts), 'vip.placement')
  assert.equal(c.status, 'pass')
  assert.match(c.message, /nopreempt/)
})

test('wrong auth_pass on one director: peers disagree (hashes only), config drift, auth_failure rising', async () => {
  const {inv, desired, facts} = await healthyLab()
  const f = facts.hosts.dir2!.actual!.files.find((x) => x.path === '/etc/kaopsd/keepalived.conf')!
  f.content = f.content!.replace('auth_pass lab-only', 'auth_pass wrong-one')
  f.sha256 = 'b'.repeat(64)
  facts.hosts.dir1!.extra!.status2!.instances[0]!.stats.auth_failure = 3
  const cs = checkInvariants(inv, desired, facts)
  const agree = find(cs, 'vrrp.peers-agree')
  assert.equal(agree.status, 'fail')
  assert.match(agree.message, /auth_pass \(dir1: sha256:[0-9a-f]{12}, dir2: sha256:[0-9a-f]{12}\)/)
  assert.ok(!JSON.stringify(cs).includes('wrong-one') && !JSON.stringify(cs).includes('lab-only'), 'no secret in checks')
  assert.match(find(cs, 'kaopsd.config', 'dir2').message, /differs from the inventory's rendering/)
  const rx = find(cs, 'vrrp.rx-errors', 'VI_1@dir1')
  assert.equal(rx.status, 'fail')
  assert.match(rx.message, /auth_failure \+3 \(auth_pass differs between peers\)/)
})

test('address list and VRID mismatches are named', async () => {
  const {inv, desired, facts} = await healthyLab()
  const f = facts.hosts.dir2!.actual!.files.find((x) => x.path === '/etc/kaopsd/keepalived.conf')!
  f.content = f.content!.replace('virtual_router_id 51', 'virtual_router_id 52').replace('198.18.0.100/24', '198.18.0.100/24\n        198.18.0.101/24 dev eth0')
  facts.hosts.dir2!.extra!.status2!.instances[0]!.stats.addr_list_err = 1
  const cs = checkInvariants(inv, desired, facts)
  assert.match(find(cs, 'vrrp.peers-agree').message, /virtual_router_id \(dir1: 51, dir2: 52\).*virtual_ipaddress/)
  assert.match(find(cs, 'vrrp.rx-errors', 'VI_1@dir2').message, /addr_list_err \+1/)
})

test('adverts not flowing: a silent master and a deaf backup', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.dir1!.extra!.status2!.instances[0]!.stats = stats({advert_sent: 10})
  facts.hosts.dir2!.extra!.status2!.instances[0]!.stats = stats({advert_rcvd: 10})
  const cs = checkInvariants(inv, desired, facts)
  assert.match(find(cs, 'vrrp.adverts', 'VI_1@dir1').message, /MASTER sent no advert in 2000 ms/)
  assert.match(find(cs, 'vrrp.adverts', 'VI_1@dir2').message, /BACKUP received no advert/)
})

test('keepalived.service beside kaopsd: running, or enabled to start at boot, fails daemon.alone', async () => {
  const {inv, desired, facts} = await healthyLab()
  const unit = (h: string) => facts.hosts[h]!.actual!.units.find((u) => u.name === 'keepalived.service')!
  Object.assign(unit('dir1'), {enabled: 'enabled', active: 'active'})
  Object.assign(unit('dir2'), {enabled: 'enabled', active: 'inactive'})
  const cs = checkInvariants(inv, desired, facts)
  assert.match(find(cs, 'daemon.alone', 'dir1').message, /keepalived\.service runs beside kaopsd/)
  assert.match(find(cs, 'daemon.alone', 'dir2').message, /enabled and would start at boot/)
  assert.equal(allHold(cs), false)
})

test('kaopsd not answering, release and config hash mismatches', async () => {
  const {inv, desired, facts} = await healthyLab()
  const x = facts.hosts.dir2!.extra!
  delete x.status1
  delete x.status2
  facts.hosts.dir2!.actual!.units.find((u) => u.name === 'kaopsd.service')!.active = 'failed'
  facts.hosts.dir1!.extra!.status2!.configHash = 'c'.repeat(64)
  inv.kaopsd.version = '0.2.0'
  const cs = checkInvariants(inv, desired, facts, {kaopsdSha256: 'd'.repeat(64)})
  assert.match(find(cs, 'kaopsd.running', 'dir2').message, /does not answer.*failed/)
  assert.equal(find(cs, 'vrrp.adverts', 'VI_1@dir2').status, 'skip')
  assert.match(find(cs, 'kaopsd.config', 'dir1').message, /reload pending/)
  const rel = find(cs, 'kaopsd.release', 'dir1')
  assert.match(rel.message, /not the release kaops ships/)
  assert.match(rel.message, /inventory asks for 0\.2\.0/)
})

test('DR real server: missing arp_ignore and missing lo VIP', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.web1!.actual!.sysctl.find((s) => s.key === 'net.ipv4.conf.all.arp_ignore')!.value = '0'
  facts.hosts.web2!.actual!.addresses = facts.hosts.web2!.actual!.addresses.filter((a) => a.cidr !== '198.18.0.100/32')
  const cs = checkInvariants(inv, desired, facts)
  assert.match(find(cs, 'rs.arp-sysctl', 'web1').message, /net\.ipv4\.conf\.all\.arp_ignore=0 \(want 1\)/)
  assert.equal(find(cs, 'rs.arp-sysctl', 'web2').status, 'pass')
  assert.match(find(cs, 'rs.lo-vip', 'web2').message, /VIP not on lo: 198\.18\.0\.100\/32/)
})

test('ARP answered by a real server too, by nobody, or no probe host', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.arp[0]!.macs = [MAC.dir1!, MAC.web1!]
  let c = find(checkInvariants(inv, desired, facts), 'arp.owner')
  assert.equal(c.status, 'fail')
  assert.match(c.message, /web1\/eth0 \(02:00:00:00:00:21\) answers ARP for 198\.18\.0\.100, not only dir1/)
  facts.arp[0]!.macs = []
  assert.match(find(checkInvariants(inv, desired, facts), 'arp.owner').message, /nobody answered/)
  delete facts.probeHost
  assert.equal(find(checkInvariants(inv, desired, facts), 'arp.owner').status, 'skip')
})

test('firewall: accept rules missing, and a drop of VRRP in another table', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.dir1!.actual!.firewall.vrrpRulesPresent = false
  facts.hosts.dir2!.extra!.nftRuleset = 'table inet kaops_vrrp {\n chain input {\n  iifname "eth0" ip protocol 112 accept\n }\n}\ntable inet blocker {\n chain input {\n  type filter hook input priority filter - 20; policy accept;\n  ip protocol vrrp drop\n }\n}\n'
  const cs = checkInvariants(inv, desired, facts)
  assert.match(find(cs, 'firewall.vrrp', 'dir1').message, /accept rules are not loaded/)
  assert.match(find(cs, 'firewall.vrrp', 'dir2').message, /table inet blocker chain input blocks VRRP: ip protocol vrrp drop/)
})

test('firewall scan: policy drop without a VRRP accept, iptables DROP', () => {
  assert.deepEqual(findVrrpBlockers('table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  tcp dport 22 accept\n }\n}\n', '').map((b) => b.where), ['nftables table inet filter chain input'])
  assert.deepEqual(findVrrpBlockers('table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  ip protocol vrrp accept\n }\n}\n', ''), [])
  assert.equal(findVrrpBlockers('', '-P INPUT ACCEPT\n-A INPUT -p vrrp -j DROP\n')[0]!.rule, '-A INPUT -p vrrp -j DROP')
})

test('service real servers as the master sees them', async () => {
  const {inv, desired, facts} = await healthyLab()
  const rs = facts.hosts.dir1!.extra!.status2!.virtualServers[0]!.realServers[1]!
  rs.up = false
  rs.lastCheck = {at: 'x', ok: false, detail: 'HTTP 500', latencyMs: 3}
  const c = find(checkInvariants(inv, desired, facts), 'service.realservers')
  assert.equal(c.status, 'fail')
  assert.match(c.message, /web2 \(HTTP 500\)/)
})

test('an unreachable host fails host.reachable and its VIP is judged without it', async () => {
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.dir2 = {name: 'dir2', error: 'host dir2: connection timed out'}
  const cs = checkInvariants(inv, desired, facts)
  assert.match(find(cs, 'host.reachable', 'dir2').message, /connection timed out/)
  assert.equal(find(cs, 'vip.placement').status, 'pass')
})

test('instance fields from keepalived.conf: dev/brd words are not VIPs, secret only hashed', () => {
  const f = instanceFields('vrrp_instance A {\n virtual_router_id 7 # c\n advert_int 2\n authentication {\n auth_type PASS\n auth_pass s3cret\n }\n virtual_ipaddress {\n 10.0.0.1/24 brd 10.0.0.255 dev eth1 label eth1:1\n fd00::1/64\n }\n}\nvrrp_instance B {\n}\n')
  assert.equal(f.length, 2)
  assert.deepEqual({...f[0], authHash: f[0]!.authHash!.slice(0, 7)}, {name: 'A', vrid: 7, advertInt: 2, authType: 'PASS', authHash: 'sha256:', vips: ['10.0.0.1/24', 'fd00::1/64']})
  assert.ok(!JSON.stringify(f).includes('s3cret'))
})

test('human table: one line per check, counts, and the JSON report is the same data', async () => {
  const {toReport} = await import('../../src/verify/run-verify.js')
  const {formatVerifyHuman} = await import('../../src/verify/format-human.js')
  const {inv, desired, facts} = await healthyLab()
  facts.hosts.dir2!.actual!.addresses.push({ifname: 'eth0', cidr: '198.18.0.100/32', family: 'inet'})
  const report = toReport('inventories/lab.yaml', checkInvariants(inv, desired, facts))
  assert.equal(report.ok, false)
  const text = formatVerifyHuman(report)
  assert.equal(text.trim().split('\n').length, report.checks.length + 3)
  assert.match(text, /^FAIL  vip\.placement +VI_1 +split brain/m)
  assert.match(text, /1 check failed: \d+ passed, 1 failed, 2 skipped/)
  assert.equal(JSON.parse(JSON.stringify(report)).counts.fail, 1)
})
