// kaops status from recorded facts: holder, states, split brain, real servers; the screen and JSON.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {loadInventory} from '../../src/inventory/load.js'
import type {KaopsdStatus} from '../../src/model/kaopsd-status.js'
import {buildSiteStatus, formatSiteStatus, type DirectorFacts} from '../../src/status/index.js'

const stats = {advert_rcvd: 0, advert_sent: 0, become_master: 0, release_master: 0, packet_len_err: 0, ip_ttl_err: 0, invalid_type_rcvd: 0, addr_list_err: 0, invalid_authtype: 0, authtype_mismatch: 0, auth_failure: 0, pri_zero_rcvd: 0, pri_zero_sent: 0}

function kaopsd(state: 'MASTER' | 'BACKUP', priority: number, effective = priority, web2Up = true): KaopsdStatus {
  return {
    format_version: 1, version: '0.1.0', pid: 42, uptimeSeconds: 60, configPath: '/etc/kaopsd/keepalived.conf', configHash: 'x', release: 'r1',
    instances: [{name: 'VI_1', state, vrid: 51, interface: 'eth0', version: 2, family: 4, priority, effectivePriority: effective, vips: ['198.18.0.100/24'], masterAddress: '198.18.0.11', lastTransition: null, syncGroup: null, stats}],
    virtualServers: [{key: '198.18.0.100:80', address: '198.18.0.100', port: 80, protocol: 'TCP', backend: 'nftables', quorumUp: true, realServers: [
      {address: '198.18.0.21', port: 80, weight: 1, up: true, lastCheck: {at: 't', ok: true, detail: 'HTTP 200', latencyMs: 2}},
      {address: '198.18.0.22', port: 80, weight: 1, up: web2Up, lastCheck: {at: 't', ok: web2Up, detail: web2Up ? 'HTTP 200' : 'connection refused', latencyMs: 1}},
    ]}],
  }
}
const addr = (...cidrs: string[]) => cidrs.map((cidr) => ({ifname: 'eth0', cidr, family: 'inet' as const}))

test('status: healthy lab: holder dir1, both states, real servers up', async () => {
  const inv = await loadInventory('inventories/lab.yaml', {secrets: false})
  const facts = new Map<string, DirectorFacts>([
    ['dir1', {addresses: addr('198.18.0.11/24', '198.18.0.100/24'), kaopsdStatus: kaopsd('MASTER', 150)}],
    ['dir2', {addresses: addr('198.18.0.12/24'), kaopsdStatus: kaopsd('BACKUP', 100)}],
  ])
  const s = buildSiteStatus(inv, facts)
  assert.equal(s.healthy, true)
  assert.deepEqual(s.vips[0]!.holders, ['dir1'])
  assert.equal(s.vips[0]!.health, 'ok')
  assert.deepEqual(s.vips[0]!.directors.map((d) => [d.director, d.state, d.priority]), [['dir1', 'MASTER', 150], ['dir2', 'BACKUP', 100]])
  assert.equal(s.services[0]!.reportedBy, 'dir1')
  assert.deepEqual(s.services[0]!.realServers.map((r) => [r.name, r.up]), [['web1', true], ['web2', true]])
  const screen = formatSiteStatus(s)
  assert.match(screen, /inventories\/lab\.yaml: VIPs healthy\n/)
  assert.match(screen, /VI_1 \(VRID 51\) 198\.18\.0\.100\/24  holder: dir1  ok/)
  assert.match(screen, /dir1 \*\s+MASTER\s+150\s+yes/)
  assert.match(screen, /web 198\.18\.0\.100:80 \(VIP VI_1\)  2\/2 up  as seen by dir1/)
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s, 'plain JSON')
})

test('status: split brain, a lowered priority, a real server down, an unreachable director', async () => {
  const inv = await loadInventory('inventories/lab.yaml', {secrets: false})
  const split = buildSiteStatus(inv, new Map<string, DirectorFacts>([
    ['dir1', {addresses: addr('198.18.0.11/24', '198.18.0.100/24'), kaopsdStatus: kaopsd('MASTER', 150, 130, false)}],
    ['dir2', {addresses: addr('198.18.0.12/24', '198.18.0.100/24'), kaopsdStatus: kaopsd('MASTER', 100)}],
  ]))
  assert.equal(split.vips[0]!.health, 'split-brain')
  assert.equal(split.healthy, false)
  assert.equal(split.services[0]!.reportedBy, null, 'two holders: no single truth for real servers')
  const screen = formatSiteStatus(split)
  assert.match(screen, /SPLIT BRAIN/)
  assert.match(screen, /130 \(of 150\)/)

  const moved = buildSiteStatus(inv, new Map<string, DirectorFacts>([
    ['dir1', {addresses: [], error: 'dir1 (198.18.0.11:22): connect ECONNREFUSED'}],
    ['dir2', {addresses: addr('198.18.0.12/24', '198.18.0.100/24'), kaopsdStatus: kaopsd('MASTER', 100, 100, false)}],
  ]))
  assert.equal(moved.vips[0]!.health, 'moved')
  assert.equal(moved.directors[0]!.reachable, false)
  assert.deepEqual(moved.services[0]!.realServers.map((r) => r.up), [true, false])
  const text = formatSiteStatus(moved)
  assert.match(text, /NO \(dir1 \(198\.18\.0\.11:22\): connect ECONNREFUSED\)/)
  assert.match(text, /web2\s+198\.18\.0\.22:80\s+DOWN\s+1\s+connection refused/)
  assert.match(text, /1\/2 up/)
  assert.match(text, /ATTENTION, 1 real server\(s\) down/)

  const down = buildSiteStatus(inv, new Map<string, DirectorFacts>([
    ['dir1', {addresses: addr('198.18.0.11/24')}],
    ['dir2', {addresses: addr('198.18.0.12/24')}],
  ]))
  assert.equal(down.vips[0]!.health, 'down')
  assert.match(formatSiteStatus(down), /DOWN \(no director holds it\)/)
  assert.deepEqual(down.vips[0]!.directors.map((d) => d.state), [null, null], 'kaopsd not running: state unknown')
})

test('status: a takeover in force shows on the director holding it, with the seconds left', async () => {
  const inv = await loadInventory('inventories/lab.yaml', {secrets: false})
  const raised = kaopsd('MASTER', 100, 254)
  raised.instances[0]!.takeover = {until: '2026-11-23T12:00:00.000Z', secondsLeft: 42, reason: 'kaops apply: restart dir1'}
  const s = buildSiteStatus(inv, new Map<string, DirectorFacts>([
    ['dir1', {addresses: addr('198.18.0.11/24'), kaopsdStatus: kaopsd('BACKUP', 150)}],
    ['dir2', {addresses: addr('198.18.0.12/24', '198.18.0.100/24'), kaopsdStatus: raised}],
  ]))
  assert.deepEqual(s.vips[0]!.directors.map((d) => [d.director, d.takeoverSecondsLeft]), [['dir1', null], ['dir2', 42]])
  assert.equal(s.vips[0]!.health, 'moved')
  assert.match(formatSiteStatus(s), /dir2\s+MASTER\s+254 \(of 100\), takeover 42 s left\s+yes/)
})
