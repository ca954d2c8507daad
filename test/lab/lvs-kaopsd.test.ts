// kaopsd's load balancing end to end, as in the seeds' LVS example, in network namespaces this
// test makes: a client, two directors running dist/kaopsd (a vrrp_instance holding the VIP and
// the real servers' gateway, plus a virtual_server), two real servers running a tiny web
// server that answers its own name. Bridges live in a private "switch" namespace; addresses are
// 198.18.50.0/24 (client side) and 198.18.51.0/24 (server side), routed nowhere.
//   1. NAT, rr, HTTP_GET: requests spread; one web server stops and after delay_loop +
//      connect_timeout + delay_before_retry (+ slack) every request goes to the other with no
//      error; it starts again and comes back. status --json shows the virtual server.
//   2. DR (reload by SIGHUP): VIP on the real servers' lo /32, arp_ignore/arp_announce; same.
//   3. VRRP: a second director; the master is SIGKILLed and its links cut (a dead host), the
//      backup takes the VIP and the load balancing with it.
// IPVS cannot run on this kernel (no ip_vs): lvs_backend auto picks nftables here, and the
// IPVS variant is skipped with that reason.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import type {ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {NetnsLab, stopProcess, whyNoNetnsLab} from './helpers/netns-lab.js'
import {KAOPSD, sleep, waitFor, type Daemon} from './helpers/vrrp-net.js'

const DELAY_LOOP = 2
const CONNECT_TIMEOUT = 1
const DELAY_BEFORE_RETRY = 1
const RETRY = 1
// Scheduling, the reconcile's nft run and the probe's own 1 s timeout on a busy 2-core machine.
const SLACK_MS = 2000
const REMOVAL_BOUND_MS = (DELAY_LOOP + CONNECT_TIMEOUT + DELAY_BEFORE_RETRY) * 1000 + SLACK_MS

const VIP = '198.18.50.100'
const GW = '198.18.51.254'

function whyCannotRun(): string | undefined {
  if (!existsSync(KAOPSD)) return `${KAOPSD} is missing (npm run build)`
  return whyNoNetnsLab(['nft'])
}

/** The client's probe: a new connection every 40 ms, one line per answer ("<ms> <name>" or "<ms> ERR <why>"). */
const probeSource = `
const http = require('node:http')
const once = () => {
  const t = Date.now()
  let done = false
  const out = (s) => { if (!done) { done = true; console.log(t + ' ' + s); setTimeout(once, 40) } }
  http.get({host: process.argv[1], port: 80, path: '/', agent: false, timeout: 1000}, (res) => {
    let b = ''
    res.on('data', (d) => (b += d)).on('end', () => out(b.trim() || 'ERR empty')).on('error', (e) => out('ERR ' + e.code))
  }).on('timeout', function () { this.destroy(new Error('timeout')) }).on('error', (e) => out('ERR ' + (e.code || e.message)))
}
once()
`

interface Answer {
  at: number
  what: string
}

class Probe {
  readonly answers: Answer[] = []
  constructor(readonly child: ChildProcess) {
    let buf = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d
      const lines = buf.split('\n')
      buf = lines.pop()!
      for (const l of lines) {
        const i = l.indexOf(' ')
        if (i > 0) this.answers.push({at: Number(l.slice(0, i)), what: l.slice(i + 1)})
      }
    })
  }

  between(from: number, to = Infinity): Answer[] {
    return this.answers.filter((a) => a.at >= from && a.at < to)
  }
}

function summary(xs: Answer[]): string {
  const counts = new Map<string, number>()
  for (const a of xs) counts.set(a.what, (counts.get(a.what) ?? 0) + 1)
  return [...counts].map(([k, v]) => `${k}: ${v}`).join(', ')
}

function lvsConfig(o: {routerId: string; priority: number; kind: 'NAT' | 'DR'; realServers: string[]; ipvs?: boolean}): string {
  // The classic LVS-NAT pair: the VIP on the client side and the real servers' gateway on the
  // server side, two instances in one sync group so they always move together.
  const instance = (name: string, dev: string, vrid: number, vip: string) => `vrrp_instance ${name} {
  state BACKUP
  interface ${dev}
  virtual_router_id ${vrid}
  priority ${o.priority}
  advert_int 1
  virtual_ipaddress {
    ${vip} dev ${dev}
  }
}
`
  return `global_defs {
  router_id ${o.routerId}
  lvs_backend ${o.ipvs ? 'ipvs' : 'auto'}
}
vrrp_sync_group G_LB {
  group {
    VI_LB
    VI_GW
  }
}
${instance('VI_LB', 'front', 50, `${VIP}/24`)}${instance('VI_GW', 'back', 51, `${GW}/24`)}virtual_server ${VIP} 80 {
  delay_loop ${DELAY_LOOP}
  lb_algo rr
  lb_kind ${o.kind}
  protocol TCP
${o.realServers.map((rs) => `  real_server ${rs} 80 {
    weight 1
    HTTP_GET {
      url {
        path /
        status_code 200
      }
      connect_timeout ${CONNECT_TIMEOUT}
      retry ${RETRY}
      delay_before_retry ${DELAY_BEFORE_RETRY}
    }
  }
`).join('')}}
`
}

test('kaopsd load balancing: NAT and DR with health checks, and the VRRP backup takes the load balancing over', async (t) => {
  const why = whyCannotRun()
  if (why) {
    t.skip(why)
    return
  }
  const lab = NetnsLab.create(['brf', 'brb'])
  const realServersUp = async (d: Daemon, n: number): Promise<boolean> => {
    const vs = (await d.status()).virtualServers[0]
    return vs !== undefined && vs.realServers.filter((r) => r.up && r.lastCheck?.ok === true).length === n
  }
  /** Stop rs2's web server; afterwards, past the bound, everything must reach rs1 without one error. */
  const failAndRecover = async (probe: Probe, label: string, webs: Record<string, ChildProcess | undefined>, rs2ns: string): Promise<void> => {
    const spreadFrom = Date.now()
    await sleep(2000)
    const spread = probe.between(spreadFrom)
    assert.ok(spread.length >= 10, `${label}: the probe answers (${spread.length})`)
    assert.equal(spread.filter((a) => a.what.startsWith('ERR')).length, 0, `${label}: no errors while healthy: ${summary(spread)}`)
    assert.ok(spread.some((a) => a.what === 'rs1') && spread.some((a) => a.what === 'rs2'), `${label}: requests spread over both: ${summary(spread)}`)

    const killedAt = Date.now()
    await stopProcess(webs.rs2)
    const deadline = killedAt + REMOVAL_BOUND_MS
    await sleep(deadline - Date.now() + 3000)
    const after = probe.between(deadline)
    assert.ok(after.length >= 20, `${label}: the probe kept answering after the deadline (${after.length})`)
    assert.deepEqual(summary(after), `rs1: ${after.length}`, `${label}: every request after ${REMOVAL_BOUND_MS} ms goes to rs1 with no error (before it: ${summary(probe.between(killedAt, deadline))})`)

    const restartedAt = Date.now()
    webs.rs2 = await lab.startNameServer(rs2ns, 'rs2')
    await waitFor(`${label}: rs2 to come back`, () => probe.between(restartedAt).some((a) => a.what === 'rs2'), DELAY_LOOP * 1000 + SLACK_MS + 2000)
  }

  const webs: Record<string, ChildProcess | undefined> = {}
  try {
    const ns = {cl: lab.host('cl'), d1: lab.host('d1'), d2: lab.host('d2'), rs1: lab.host('rs1'), rs2: lab.host('rs2')}
    lab.attach(ns.cl, 'brf', 'front', '198.18.50.2/24', 'p-cl')
    lab.attach(ns.d1, 'brf', 'front', '198.18.50.11/24', 'p-d1f')
    lab.attach(ns.d2, 'brf', 'front', '198.18.50.12/24', 'p-d2f')
    lab.attach(ns.d1, 'brb', 'back', '198.18.51.1/24', 'p-d1b')
    lab.attach(ns.d2, 'brb', 'back', '198.18.51.2/24', 'p-d2b')
    lab.attach(ns.rs1, 'brb', 'back', '198.18.51.11/24', 'p-r1b')
    lab.attach(ns.rs2, 'brb', 'back', '198.18.51.12/24', 'p-r2b')
    // DR: the real servers on the client segment too.
    lab.attach(ns.rs1, 'brf', 'front', '198.18.50.21/24', 'p-r1f')
    lab.attach(ns.rs2, 'brf', 'front', '198.18.50.22/24', 'p-r2f')
    // Down until the DR part: with a leg on the client's segment a NAT reply would skip the director.
    const rsFront = (state: 'up' | 'down') => {
      for (const n of [ns.rs1, ns.rs2]) lab.ip(n, 'link', 'set', 'front', state)
    }
    rsFront('down')
    for (const n of [ns.d1, ns.d2]) lab.exec(n, ['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    // NAT: the real servers answer through the directors' floating gateway.
    for (const n of [ns.rs1, ns.rs2]) lab.ip(n, 'route', 'add', 'default', 'via', GW)
    webs.rs1 = await lab.startNameServer(ns.rs1, 'rs1')
    webs.rs2 = await lab.startNameServer(ns.rs2, 'rs2')

    const natServers = ['198.18.51.11', '198.18.51.12']
    const d1 = await lab.startKaopsd(ns.d1, 'd1', lvsConfig({routerId: 'd1', priority: 150, kind: 'NAT', realServers: natServers}))
    await d1.waitState('MASTER', 10_000, 'VI_LB')
    await waitFor('both real servers up on d1', () => realServersUp(d1, 2), 10_000)

    const st = await d1.status()
    const vs = st.virtualServers[0]!
    assert.equal(vs.backend, 'nftables', 'auto picks nftables on a kernel without IPVS')
    assert.deepEqual([vs.address, vs.port, vs.protocol], [VIP, 80, 'TCP'])
    assert.deepEqual(vs.realServers.map((r) => [r.address, r.port, r.weight, r.up]), [['198.18.51.11', 80, 1, true], ['198.18.51.12', 80, 1, true]])
    assert.ok(vs.realServers.every((r) => r.lastCheck?.ok === true && /url\(s\) ok/.test(r.lastCheck.detail)), JSON.stringify(vs.realServers))
    assert.match(lab.exec(ns.d1, ['nft', 'list', 'table', 'ip', 'kaopsd']), /dnat/)

    const probe = new Probe(lab.spawn(ns.cl, [process.execPath, '-e', probeSource, VIP]))
    await t.test('NAT: spread, a failed web server is removed within the bound, it comes back', async () => {
      await failAndRecover(probe, 'NAT', webs, ns.rs2)
      const down = (await d1.status()).virtualServers[0]!.realServers
      assert.ok(down.every((r) => r.up), 'both up again in status')
    })

    await t.test('DR: reload to DR by SIGHUP; spread, removal within the bound, recovery', async () => {
      rsFront('up')
      for (const n of [ns.rs1, ns.rs2]) {
        for (const k of ['all', 'default', 'lo', 'front']) lab.exec(n, ['sysctl', '-qw', `net.ipv4.conf.${k}.arp_ignore=1`, `net.ipv4.conf.${k}.arp_announce=2`])
        lab.ip(n, 'addr', 'add', `${VIP}/32`, 'dev', 'lo')
      }
      d1.writeConfig(lvsConfig({routerId: 'd1', priority: 150, kind: 'DR', realServers: ['198.18.50.21', '198.18.50.22']}))
      d1.signal('SIGHUP')
      await waitFor('d1 to program DR', () => /fwd to "front"/.test(lab.exec(ns.d1, ['nft', 'list', 'ruleset'])), 10_000)
      await waitFor('both DR real servers up', () => realServersUp(d1, 2), 10_000)
      await failAndRecover(probe, 'DR', webs, ns.rs2)
      // Back to NAT for the VRRP part; the real servers drop the VIP so NAT replies are theirs again.
      for (const n of [ns.rs1, ns.rs2]) lab.ip(n, 'addr', 'del', `${VIP}/32`, 'dev', 'lo')
      rsFront('down')
      d1.writeConfig(lvsConfig({routerId: 'd1', priority: 150, kind: 'NAT', realServers: natServers}))
      d1.signal('SIGHUP')
      await waitFor('d1 back to NAT', () => /dnat/.test(lab.exec(ns.d1, ['nft', 'list', 'ruleset'])) && !/fwd to/.test(lab.exec(ns.d1, ['nft', 'list', 'ruleset'])), 10_000)
      await waitFor('both NAT real servers up', () => realServersUp(d1, 2), 10_000)
    })

    await t.test('VRRP: the master dies, the backup takes the VIP and the load balancing', async () => {
      const d2 = await lab.startKaopsd(ns.d2, 'd2', lvsConfig({routerId: 'd2', priority: 100, kind: 'NAT', realServers: natServers}))
      await d2.waitState('BACKUP', 10_000, 'VI_LB')
      await waitFor('both real servers up on d2 (the backup checks too)', () => realServersUp(d2, 2), 10_000)
      const before = Date.now()
      await sleep(1000)
      assert.equal(probe.between(before).filter((a) => a.what.startsWith('ERR')).length, 0, 'healthy through d1')
      // A dead host: the daemon killed outright and its cables cut, so its kernel (which still
      // holds the VIP and the nft table) cannot keep answering.
      const killedAt = Date.now()
      await d1.kill()
      for (const dev of ['front', 'back']) lab.ip(ns.d1, 'link', 'set', dev, 'down')
      await d2.waitState('MASTER', 10_000, 'VI_LB')
      const tookOver = Date.now()
      await sleep(4000)
      const after = probe.between(tookOver + 1000)
      assert.ok(after.length >= 20, `the probe answers through d2 (${after.length}): ${summary(probe.between(killedAt))}`)
      assert.equal(after.filter((a) => a.what.startsWith('ERR')).length, 0, `no errors once d2 is master: ${summary(after)} (during takeover: ${summary(probe.between(killedAt, tookOver + 1000))})`)
      assert.ok(after.some((a) => a.what === 'rs1') && after.some((a) => a.what === 'rs2'), `d2 spreads over both: ${summary(after)}`)
      t.diagnostic(`takeover: d2 MASTER ${tookOver - killedAt} ms after the kill`)
    })

    await t.test('IPVS backend', (tt) => {
      if (!existsSync('/proc/net/ip_vs')) {
        tt.skip('no ip_vs in this kernel (/proc/net/ip_vs is missing): the IPVS data plane cannot run here')
        return
      }
      tt.skip('a kernel with IPVS is at hand, but this lab drives nftables; run the IPVS variant with lvs_backend ipvs')
    })
    probe.child.kill('SIGKILL')
  } finally {
    lab.destroy()
  }
})
