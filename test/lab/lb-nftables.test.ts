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
import {sleep, waitFor} from './helpers/vrrp-net.js'
import type {VirtualService} from '../../src/daemon/lb/types.js'

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

/**
 * Both tests' topology, on a lab made with switches swc, sws and swd. NAT: client net
 * 198.18.C.0/24, the director in front of the server net 198.18.S.0/24 (VIP .10 on `front`).
 * DR: one segment 198.18.D.0/24, VIP .10 on the director and on the real servers' lo as /32,
 * their ARP kept quiet.
 */
function natAndDrSegments(lab: NetnsLab, net: {client: number; servers: number; dr: number}) {
  const ns = {cl: lab.host('cl'), dir: lab.host('dir'), rs1: lab.host('rs1'), rs2: lab.host('rs2')}
  const [c, sv, d] = [`198.18.${net.client}`, `198.18.${net.servers}`, `198.18.${net.dr}`]
  lab.attach(ns.cl, 'swc', 'nat0', `${c}.2/24`, 'c-nat')
  lab.attach(ns.dir, 'swc', 'front', `${c}.1/24`, 'd-front')
  lab.attach(ns.dir, 'sws', 'back', `${sv}.1/24`, 'd-back')
  lab.attach(ns.rs1, 'sws', 'nat0', `${sv}.11/24`, 'r1-nat')
  lab.attach(ns.rs2, 'sws', 'nat0', `${sv}.12/24`, 'r2-nat')
  lab.ip(ns.dir, 'addr', 'add', `${c}.10/32`, 'dev', 'front')
  for (const n of [ns.rs1, ns.rs2]) lab.ip(n, 'route', 'add', 'default', 'via', `${sv}.1`)
  lab.exec(ns.dir, ['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
  lab.attach(ns.cl, 'swd', 'dr0', `${d}.2/24`, 'c-dr')
  lab.attach(ns.dir, 'swd', 'dr0', `${d}.1/24`, 'd-dr')
  lab.attach(ns.rs1, 'swd', 'dr0', `${d}.11/24`, 'r1-dr')
  lab.attach(ns.rs2, 'swd', 'dr0', `${d}.12/24`, 'r2-dr')
  lab.ip(ns.dir, 'addr', 'add', `${d}.10/32`, 'dev', 'dr0')
  for (const n of [ns.rs1, ns.rs2]) {
    for (const k of ['all', 'default', 'lo', 'dr0']) lab.exec(n, ['sysctl', '-qw', `net.ipv4.conf.${k}.arp_ignore=1`, `net.ipv4.conf.${k}.arp_announce=2`])
    lab.ip(n, 'addr', 'add', `${d}.10/32`, 'dev', 'lo')
  }
  return ns
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
    const ns = natAndDrSegments(lab, {client: 70, servers: 71, dr: 72})
    lab.ip(ns.cl, 'route', 'add', '198.18.71.0/24', 'via', '198.18.70.1')
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

/** One request from `source` (a new connection each time); the answering server's name, or "ERR". */
function curlFrom(lab: NetnsLab, client: string, source: string, vip: string): string {
  try {
    return lab.exec(client, ['curl', '-s', '--max-time', '2', '--interface', source, `http://${vip}/`]).trim()
  } catch {
    return 'ERR'
  }
}

// persistence_timeout 3 (IPVS's persistent templates) on the nftables data plane, with real
// HTTP from several client addresses. The rr scheduler alternates new clients between the two
// servers, so where a client lands after its entry expired is known: the one not chosen last.
test('nftables data plane: persistence_timeout keeps a client on its server, times out when idle, moves it off a failed server (NAT, DR)', async (t) => {
  const why = whyNoNetnsLab(['nft', 'curl'])
  if (why) {
    t.skip(why)
    return
  }
  const TIMEOUT_S = 3
  // Longer than the timeout, with margin for a busy machine; shorter gaps are well inside it.
  const IDLE_MS = (TIMEOUT_S + 1.5) * 1000
  const WITHIN_MS = 1500
  const lab = NetnsLab.create(['swc', 'sws', 'swd'])
  const webs: Record<string, ChildProcess | undefined> = {}
  try {
    const ns = natAndDrSegments(lab, {client: 74, servers: 75, dr: 76})
    // Client addresses: .2 is the one followed closely, .3 to .9 show the spread.
    const clients = [2, 3, 4, 5, 6, 7, 8, 9]
    for (const c of clients.slice(1)) {
      lab.ip(ns.cl, 'addr', 'add', `198.18.74.${c}/24`, 'dev', 'nat0')
      lab.ip(ns.cl, 'addr', 'add', `198.18.76.${c}/24`, 'dev', 'dr0')
    }
    webs.rs1 = await lab.startNameServer(ns.rs1, 'rs1')
    webs.rs2 = await lab.startNameServer(ns.rs2, 'rs2')
    const backend = new NftablesBackend(netnsExec(ns.dir))

    // --- NAT, rr, persistence_timeout 3 ---
    const natCfg: VirtualServerConfig = {
      key: {kind: 'address', family: 'ipv4', address: '198.18.74.10', port: 80, protocol: 'TCP'},
      algo: 'rr', kind: 'NAT', alpha: false, omega: false, quorum: 1, hysteresis: 0, persistenceTimeoutS: TIMEOUT_S,
      realServers: [1, 2].map((i) => ({address: `198.18.75.1${i}`, port: 80, weight: 1, inhibitOnFailure: false})),
    }
    let state = initialState(natCfg)
    await backend.reconcile([desiredService(natCfg, state)])
    const nat = (c: number): string => curlFrom(lab, ns.cl, `198.18.74.${c}`, '198.18.74.10')
    const remembered = async (): Promise<Map<string, string>> =>
      (await backend.readCurrent()).get('ip')?.maps.get('vs4_tcp_198_18_74_10_80_persist')?.elements ?? new Map()
    const serverAt = (name: string): string => `198.18.75.1${name === 'rs1' ? 1 : 2} . 80`

    // Every client keeps its server for repeated connections, interleaved with the others'.
    const seen = new Map<number, string[]>()
    for (let round = 0; round < 4; round++) for (const c of clients) seen.set(c, [...(seen.get(c) ?? []), nat(c)])
    for (const [c, answers] of seen) {
      assert.ok(answers[0] === 'rs1' || answers[0] === 'rs2', `client .${c}: ${answers.join(' ')}`)
      assert.deepEqual(answers, Array(4).fill(answers[0]), `client .${c} stays on its server: ${answers.join(' ')}`)
    }
    const firsts = [...seen.values()].map((a) => a[0]!)
    assert.equal(count(firsts, 'rs1'), 4, `new clients alternate between the servers: ${firsts.join(' ')}`)
    assert.equal((await remembered()).get('198.18.74.2'), serverAt(seen.get(2)![0]!), 'the kernel map holds the client and its real server')

    // Each connection refreshes the entry: gaps shorter than the timeout, adding up to more.
    const home = seen.get(2)![0]!
    for (let i = 0; i < 3; i++) {
      await sleep(WITHIN_MS)
      assert.equal(nat(2), home, `still on ${home} after ${(i + 1) * WITHIN_MS} ms of short gaps`)
    }

    // A keep-alive connection's packets refresh it too (the refresh runs after NAT on every packet).
    const keep = lab.spawn(ns.cl, [process.execPath, '-e', `
      const http = require('node:http')
      const agent = new http.Agent({keepAlive: true, maxSockets: 1})
      let n = 0
      const get = () => http.get({host: '198.18.74.10', path: '/', agent, localAddress: '198.18.74.9', timeout: 2000}, (res) => {
        let b = ''; res.on('data', (d) => b += d); res.on('end', () => { console.log(b.trim()); if (++n < 5) setTimeout(get, 1000); else agent.destroy() })
      }).on('error', (e) => { console.log('ERR ' + e.code); agent.destroy() })
      get()
    `])
    const keepLines: string[] = []
    keep.stdout!.setEncoding('utf8').on('data', (d: string) => keepLines.push(...d.split('\n').filter(Boolean)))
    await waitFor('five requests over one keep-alive connection', () => keepLines.length >= 5, 15_000)
    assert.ok(keepLines[0] === 'rs1' || keepLines[0] === 'rs2', keepLines.join(' '))
    assert.deepEqual(keepLines, Array(5).fill(keepLines[0]), 'one connection, one server')
    assert.equal((await remembered()).get('198.18.74.9'), serverAt(keepLines[0]!), `client .9 is still remembered ${TIMEOUT_S}+ s after its connection opened`)

    // Idle past the timeout: the entry is gone and the client is scheduled afresh by rr. With no
    // other new client in between, two such rounds land on both servers.
    const afresh: string[] = []
    for (let i = 0; i < 2; i++) {
      await sleep(IDLE_MS)
      assert.ok(!(await remembered()).has('198.18.74.2'), `after ${IDLE_MS} ms idle the client is forgotten`)
      afresh.push(nat(2))
      assert.equal(nat(2), afresh[i], 'and remembered again from its next connection')
    }
    assert.deepEqual([...afresh].sort(), ['rs1', 'rs2'], `scheduled afresh each time: ${afresh.join(' ')}`)

    // Its server fails: the checker reports it, the reconcile evicts its clients; they move and keep working.
    const now = afresh[1]!
    const other = now === 'rs1' ? 'rs2' : 'rs1'
    // A few more clients, new again after the idle rounds: those rr puts on the same server.
    const movedClients = clients.slice(1, 7).filter((c) => nat(c) === now)
    assert.equal(movedClients.length, 3)
    await stopProcess(webs[now])
    state = applyHealth(natCfg, state, `198.18.75.1${now === 'rs1' ? 1 : 2}:80`, {up: false}).state
    const down = await backend.reconcile([desiredService(natCfg, state)])
    const evicted = /delete element ip kaopsd vs4_tcp_198_18_74_10_80_persist \{ ([^}]*) \}/.exec(down.applied)?.[1]?.split(', ').sort()
    assert.deepEqual(evicted, [2, ...movedClients].map((c) => `198.18.74.${c}`).sort(), `exactly the failed server's clients are evicted:\n${down.applied}`)
    for (const c of [2, ...movedClients]) {
      assert.deepEqual([nat(c), nat(c), nat(c)], Array(3).fill(other), `client .${c} moved to ${other} and works`)
    }
    // The failed server comes back: the moved clients stay where they are while remembered.
    webs[now] = await lab.startNameServer(now === 'rs1' ? ns.rs1 : ns.rs2, now)
    state = applyHealth(natCfg, state, `198.18.75.1${now === 'rs1' ? 1 : 2}:80`, {up: true}).state
    await backend.reconcile([desiredService(natCfg, state)])
    assert.deepEqual([nat(2), nat(2)], [other, other], 'persistence outlasts the server set change')
    keep.kill('SIGKILL')

    // --- DR, wrr, persistence_timeout 3: new clients are hashed by address ---
    const dr: VirtualService = {
      key: {kind: 'address', family: 'ipv4', address: '198.18.76.10', port: 80, protocol: 'TCP'},
      algo: 'wrr', kind: 'DR', interface: 'dr0', persistenceTimeoutS: TIMEOUT_S,
      destinations: [1, 2].map((i) => ({address: `198.18.76.1${i}`, port: 80, weight: 1})),
    }
    const drApplied = await backend.reconcile([dr])
    assert.deepEqual(drApplied.warnings, [])
    const viaDr = (c: number): string => curlFrom(lab, ns.cl, `198.18.76.${c}`, '198.18.76.10')
    const drHome = new Map(clients.map((c) => [c, viaDr(c)]))
    for (const c of clients) assert.deepEqual([viaDr(c), viaDr(c)], Array(2).fill(drHome.get(c)), `DR client .${c} stays`)
    const onRs2 = clients.filter((c) => drHome.get(c) === 'rs2')
    assert.ok(onRs2.length > 0 && onRs2.length < clients.length, `DR clients spread: ${[...drHome].map(([c, s]) => `.${c}=${s}`).join(' ')}`)
    // rs2 fails: its clients move to rs1 and work; rs2 returns: they stay on rs1 while remembered,
    // and are hashed afresh (over both servers again) only after idling past the timeout.
    await stopProcess(webs.rs2)
    await backend.reconcile([{...dr, destinations: [dr.destinations[0]!]}])
    for (const c of onRs2) assert.deepEqual([viaDr(c), viaDr(c)], ['rs1', 'rs1'], `DR client .${c} moved off the failed server`)
    webs.rs2 = await lab.startNameServer(ns.rs2, 'rs2')
    await backend.reconcile([dr])
    for (const c of onRs2) assert.equal(viaDr(c), 'rs1', `DR client .${c} stays on rs1 while remembered`)
    await sleep(IDLE_MS)
    const drAfter = new Map(clients.map((c) => [c, viaDr(c)]))
    assert.ok(count([...drAfter.values()], 'rs2') > 0 && count([...drAfter.values()], 'rs1') > 0, `DR clients spread again after idling: ${[...drAfter].map(([c, s]) => `.${c}=${s}`).join(' ')}`)
    for (const c of clients) assert.equal(viaDr(c), drAfter.get(c), `DR client .${c} stays`)

    await backend.clear()
    assert.equal(lab.exec(ns.dir, ['nft', 'list', 'ruleset']).includes('kaopsd'), false, 'clear() leaves nothing behind')
  } finally {
    lab.destroy()
  }
})
