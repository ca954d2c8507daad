// The nftables load-balancing data plane end to end, in network namespaces this test makes:
// a client, a director and two real servers running tiny node HTTP servers that answer their
// own name. Bridges live inside a private "switch" namespace, so nothing on this machine's own
// network is touched. Addresses are 198.18.x (RFC 2544), routed nowhere. Needs root, ip, nft, curl.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import type {ChildProcess} from 'node:child_process'
import {NftablesBackend} from '../../src/daemon/lb/nftables-backend.js'
import {netnsExec} from '../../src/daemon/lb/lb-exec.js'
import {applyHealth, desiredService, initialState, type VirtualServerConfig} from '../../src/daemon/check/virtual-server-state.js'
import {NetnsLab, stopProcess, whyNoNetnsLab} from './helpers/netns-lab.js'
import {waitFor} from './helpers/vrrp-net.js'

/** n requests from the client namespace, each a new connection; returns the answers ("ERR" on failure). */
function curlMany(lab: NetnsLab, client: string, vip: string, n: number): string[] {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    try {
      out.push(lab.exec(client, ['curl', '-s', '--max-time', '2', `http://${vip}/`]).trim())
    } catch {
      out.push('ERR')
    }
  }
  return out
}

const count = (xs: string[], x: string): number => xs.filter((v) => v === x).length

test('nftables data plane: NAT spreads over both real servers, survives a failure and a reconcile; DR too', async (t) => {
  const why = whyNoNetnsLab(['nft', 'curl'])
  if (why) {
    t.skip(why)
    return
  }
  const lab = NetnsLab.create(['swc', 'sws', 'swd'])
  const webs: Record<string, ChildProcess | undefined> = {}
  try {
    const ns = {cl: lab.host('cl'), dir: lab.host('dir'), rs1: lab.host('rs1'), rs2: lab.host('rs2')}
    // NAT: client net 198.18.70.0/24, server net 198.18.71.0/24 behind the director.
    lab.attach(ns.cl, 'swc', 'nat0', '198.18.70.2/24', 'c-nat')
    lab.attach(ns.dir, 'swc', 'front', '198.18.70.1/24', 'd-front')
    lab.attach(ns.dir, 'sws', 'back', '198.18.71.1/24', 'd-back')
    lab.attach(ns.rs1, 'sws', 'nat0', '198.18.71.11/24', 'r1-nat')
    lab.attach(ns.rs2, 'sws', 'nat0', '198.18.71.12/24', 'r2-nat')
    lab.ip(ns.dir, 'addr', 'add', '198.18.70.10/32', 'dev', 'front')
    lab.ip(ns.cl, 'route', 'add', '198.18.71.0/24', 'via', '198.18.70.1')
    for (const n of [ns.rs1, ns.rs2]) lab.ip(n, 'route', 'add', 'default', 'via', '198.18.71.1')
    lab.exec(ns.dir, ['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    // DR: one segment 198.18.72.0/24; the VIP on the real servers' lo as /32, ARP kept quiet.
    lab.attach(ns.cl, 'swd', 'dr0', '198.18.72.2/24', 'c-dr')
    lab.attach(ns.dir, 'swd', 'dr0', '198.18.72.1/24', 'd-dr')
    lab.attach(ns.rs1, 'swd', 'dr0', '198.18.72.11/24', 'r1-dr')
    lab.attach(ns.rs2, 'swd', 'dr0', '198.18.72.12/24', 'r2-dr')
    lab.ip(ns.dir, 'addr', 'add', '198.18.72.10/32', 'dev', 'dr0')
    for (const n of [ns.rs1, ns.rs2]) {
      for (const k of ['all', 'default', 'lo']) lab.exec(n, ['sysctl', '-qw', `net.ipv4.conf.${k}.arp_ignore=1`, `net.ipv4.conf.${k}.arp_announce=2`])
      lab.exec(n, ['sysctl', '-qw', 'net.ipv4.conf.dr0.arp_ignore=1', 'net.ipv4.conf.dr0.arp_announce=2'])
      lab.ip(n, 'addr', 'add', '198.18.72.10/32', 'dev', 'lo')
    }
    webs.rs1 = await lab.startNameServer(ns.rs1, 'rs1')
    webs.rs2 = await lab.startNameServer(ns.rs2, 'rs2')

    const backend = new NftablesBackend(netnsExec(ns.dir))
    const natCfg: VirtualServerConfig = {
      key: {kind: 'address', family: 'ipv4', address: '198.18.70.10', port: 80, protocol: 'TCP'},
      algo: 'rr', kind: 'NAT', alpha: false, omega: false, quorum: 1, hysteresis: 0,
      realServers: [1, 2].map((i) => ({address: `198.18.71.1${i}`, port: 80, weight: 1, inhibitOnFailure: false})),
    }
    let state = initialState(natCfg)
    const first = await backend.reconcile([desiredService(natCfg, state)])
    assert.match(first.applied, /^add table ip kaopsd$/m)
    assert.equal((await backend.reconcile([desiredService(natCfg, state)])).changes, 0, 'reconciling the same state changes nothing')

    const spread = curlMany(lab, ns.cl, '198.18.70.10', 10)
    assert.equal(count(spread, 'ERR'), 0, spread.join(' '))
    assert.ok(count(spread, 'rs1') >= 3 && count(spread, 'rs2') >= 3, `requests spread over both: ${spread.join(' ')}`)

    // An established keep-alive connection, opened before the change, must survive it.
    const keep = lab.spawn(ns.cl, [process.execPath, '-e', `
      const http = require('node:http')
      const agent = new http.Agent({keepAlive: true, maxSockets: 1})
      const get = (cb) => http.get({host: '198.18.70.10', path: '/', agent, timeout: 2000}, (res) => { let b = ''; res.on('data', (d) => b += d); res.on('end', () => cb(b.trim())) }).on('error', (e) => cb('ERR ' + e.code))
      get((a) => { console.log(a); process.stdin.once('data', () => get((b) => { console.log(b); agent.destroy() })) })
    `], {stdin: true})
    const keepLines: string[] = []
    keep.stdout!.setEncoding('utf8').on('data', (d: string) => keepLines.push(...d.split('\n').filter(Boolean)))
    await waitFor('the keep-alive client\'s first answer', () => keepLines.length >= 1)
    const kept = keepLines[0]!
    const other = kept === 'rs1' ? 'rs2' : 'rs1'
    assert.ok(kept === 'rs1' || kept === 'rs2', `first keep-alive answer: ${kept}`)

    // The other server's web server stops; its checker reports it down; reconcile.
    await stopProcess(webs[other])
    state = applyHealth(natCfg, state, `198.18.71.1${other === 'rs1' ? 1 : 2}:80`, {up: false}).state
    const change = await backend.reconcile([desiredService(natCfg, state)])
    assert.doesNotMatch(change.applied, /add table|prerouting|delete map|services/, `only the service's chain and elements change:\n${change.applied}`)
    keep.stdin!.write('go\n')
    await waitFor('the keep-alive client\'s second answer', () => keepLines.length >= 2)
    assert.equal(keepLines[1], kept, 'the established connection kept its real server across the reconcile')
    const after = curlMany(lab, ns.cl, '198.18.70.10', 6)
    assert.deepEqual(after, Array(6).fill(kept), 'every request goes to the live server, no errors')

    // It comes back.
    webs[other] = await lab.startNameServer(other === 'rs1' ? ns.rs1 : ns.rs2, other)
    state = applyHealth(natCfg, state, `198.18.71.1${other === 'rs1' ? 1 : 2}:80`, {up: true}).state
    await backend.reconcile([desiredService(natCfg, state)])
    const back = curlMany(lab, ns.cl, '198.18.70.10', 4)
    assert.ok(count(back, 'rs1') >= 1 && count(back, 'rs2') >= 1, `both again: ${back.join(' ')}`)

    // DR mode on the shared segment: switch the whole data plane in one reconcile.
    const dr = {
      key: {kind: 'address', family: 'ipv4', address: '198.18.72.10', port: 80, protocol: 'TCP'},
      algo: 'wrr', kind: 'DR', interface: 'dr0',
      destinations: [1, 2].map((i) => ({address: `198.18.72.1${i}`, port: 80, weight: 1})),
    } as const
    const drApplied = await backend.reconcile([{...dr, destinations: [...dr.destinations]}])
    assert.match(drApplied.applied, /^delete table ip kaopsd$/m)
    assert.match(drApplied.applied, /fwd to "dr0"/)
    assert.deepEqual(drApplied.warnings, [])
    const drSpread = curlMany(lab, ns.cl, '198.18.72.10', 12)
    assert.equal(count(drSpread, 'ERR'), 0, drSpread.join(' '))
    assert.ok(count(drSpread, 'rs1') >= 1 && count(drSpread, 'rs2') >= 1, `DR spreads (flow hash of source port): ${drSpread.join(' ')}`)
    await stopProcess(webs.rs2)
    await backend.reconcile([{...dr, destinations: [dr.destinations[0]]}])
    assert.deepEqual(curlMany(lab, ns.cl, '198.18.72.10', 4), Array(4).fill('rs1'))

    await backend.clear()
    assert.equal(lab.exec(ns.dir, ['nft', 'list', 'ruleset']).includes('kaopsd'), false, 'clear() leaves nothing behind')
  } finally {
    lab.destroy()
  }
})
