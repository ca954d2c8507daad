// kaopsd against kaopsd on real packets: three router namespaces and a client on one bridge
// (198.18.40.0/24, routed nowhere), dist/kaopsd in each, tcpdump on the bridge. Scenarios run
// one after another on the same segment: election, hard failure, preemption, graceful stop,
// nopreempt, preempt_delay, track_script demotion and FAULT, split brain and heal, unicast,
// three routers, hostile packets, SIGHUP reload. Most use VRRPv3 with 0.5 s adverts (the
// scenarios are about logic); timing bounds are loose on purpose, the numbers belong to
// `npm run bench:failover`.
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Capture, Daemon, VrrpSegment, sleep, vrrpConfig, waitFor, whyNoVrrpLab, type InstanceOptions, type ScriptOptions} from './helpers/vrrp-net.js'

const why = whyNoVrrpLab({tcpdump: true})
const ADV = 0.5
/** RFC 5798 skew for v3: ((256 - priority) * advert interval) / 256, in ms. */
const skewMs = (prio: number, adv = ADV) => ((256 - prio) * adv * 1000) / 256
const masterDownMs = (prio: number, adv = ADV) => 3 * adv * 1000 + skewMs(prio, adv)

describe('kaopsd VRRP on a lab segment', {skip: why ?? false, timeout: 240_000}, () => {
  let seg: VrrpSegment
  let cap: Capture
  let vip: string
  const running = new Set<Daemon>()

  before(async () => {
    seg = VrrpSegment.create({prefix: '198.18.40', routers: 3, client: true})
    cap = await seg.capture()
    vip = seg.vip()
  })
  after(async () => {
    await cap?.stop()
    seg?.destroy()
  })

  const conf = (i: number, inst: Partial<InstanceOptions> & {priority: number}, scripts?: ScriptOptions[]) =>
    vrrpConfig({routerId: `r${i}`, scripts, instances: [{version: 3, advertInt: ADV, vips: [`${vip}/24`], ...inst}]})

  async function start(i: number, inst: Partial<InstanceOptions> & {priority: number}, scripts?: ScriptOptions[]): Promise<Daemon> {
    const d = await seg.startKaopsd(i, conf(i, inst, scripts))
    running.add(d)
    return d
  }

  async function stopAll(): Promise<void> {
    for (const d of running) if (d.running) await d.stop()
    running.clear()
    for (let i = 0; i < 3; i++) spawnDel(i)
  }

  /** A SIGKILLed daemon leaves its VIP behind, as a crashed keepalived does; tidy it. */
  function spawnDel(i: number): void {
    if (seg.addresses(i).includes(vip)) seg.exec(seg.routerNs(i), ['ip', 'addr', 'del', `${vip}/24`, 'dev', 'eth0'])
  }

  test('election, hard failure, preemption, graceful stop', async () => {
    try {
      const a = await start(0, {priority: 150})
      const b = await start(1, {priority: 100})
      await a.waitState('MASTER')
      await b.waitState('BACKUP')
      assert.deepEqual(seg.holders(vip), [0], 'only the higher priority holds the VIP')
      assert.equal((await b.instance()).masterAddress, seg.address(0))

      // Hard failure: the backup takes over Master_Down_Interval after the last advert.
      await a.kill()
      await b.waitState('MASTER', 5000)
      await sleep(100)
      const last = cap.adverts(seg.address(0)).at(-1)!
      const first = cap.adverts(seg.address(1), {after: last.t})[0]
      assert.ok(first, 'the new master advertises')
      const takeoverMs = (first.t - last.t) * 1000
      const mdi = masterDownMs(100)
      assert.ok(takeoverMs >= mdi - 5 && takeoverMs <= mdi + 200, `takeover ${takeoverMs.toFixed(1)} ms, Master_Down_Interval ${mdi} ms`)
      assert.ok(seg.holders(vip).includes(1))
      spawnDel(0)

      // The higher priority comes back and preempts; the backup releases the VIP.
      const a2 = await start(0, {priority: 150})
      await a2.waitState('MASTER')
      await b.waitState('BACKUP')
      await waitFor('the VIP to leave r1', () => seg.holders(vip).join() === '0')
      assert.equal((await b.instance()).stats.become_master, 1)

      // Graceful stop: priority 0, then the backup takes over after its skew time.
      assert.equal(await a2.stop(), 0)
      await b.waitState('MASTER', 3000)
      await sleep(100)
      const zero = cap.adverts(seg.address(0), {prio: 0}).at(-1)
      assert.ok(zero, 'the stopping master sends priority 0')
      const next = cap.adverts(seg.address(1), {after: zero.t})[0]!
      const handover = (next.t - zero.t) * 1000
      assert.ok(handover >= skewMs(100) - 5 && handover <= skewMs(100) + 200, `handover ${handover.toFixed(1)} ms, skew ${skewMs(100)} ms`)
      assert.deepEqual(seg.holders(vip), [1], 'the stopped master released the VIP')
      assert.equal((await b.instance()).stats.pri_zero_rcvd, 1)
    } finally {
      await stopAll()
    }
  })

  test('a starting router removes a VIP a crashed run left behind', async () => {
    try {
      const a = await start(0, {priority: 150, state: 'MASTER'})
      await a.waitState('MASTER')
      seg.exec(seg.routerNs(1), ['ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0'])
      const b = await start(1, {priority: 100})
      await b.waitState('BACKUP')
      await waitFor('the stale VIP to leave r1', () => seg.holders(vip).join() === '0', 3000)
      // The daemon's log reaches us through a pipe this process reads between polls: wait for it.
      await waitFor('the stale VIP removal in the log', () => /removing stale VIP/.test(b.output), 3000)
      await a.kill()
      await b.waitState('MASTER', 5000)
      // r0 comes back over its own leftover: like keepalived it clears it (only a priority-255
      // owner starts as master), then preempts and adds it again.
      const a2 = await start(0, {priority: 150, state: 'MASTER'})
      await a2.waitState('MASTER')
      await b.waitState('BACKUP', 3000)
      await waitFor('the VIP on r0 only', () => seg.holders(vip).join() === '0', 3000)
    } finally {
      await stopAll()
    }
  })

  test('nopreempt keeps the running master; preempt_delay waits before preempting', async () => {
    try {
      const b = await start(1, {priority: 100, nopreempt: true})
      await b.waitState('MASTER', 5000)
      const a = await start(0, {priority: 150, nopreempt: true})
      await a.waitState('BACKUP')
      await sleep(6 * ADV * 1000)
      assert.equal((await a.instance()).state, 'BACKUP', 'nopreempt: a higher priority does not take over')
      assert.deepEqual(seg.holders(vip), [1])
      await a.stop()

      const started = Date.now()
      const c = await start(0, {priority: 150, preemptDelay: 2})
      await c.waitState('MASTER', 8000)
      const waited = Date.now() - started
      assert.ok(waited >= 1900, `preempted after ${waited} ms, preempt_delay 2 s`)
      await b.waitState('BACKUP')
      await waitFor('the VIP on r0 only', () => seg.holders(vip).join() === '0')
    } finally {
      await stopAll()
    }
  })

  test('track_script: weight -60 hands over, weight 0 is FAULT', async () => {
    const flag = join(seg.dir, 'healthy')
    writeFileSync(flag, '')
    const scripts = [{name: 'chk', script: `/usr/bin/test -e ${flag}`, interval: 1}]
    try {
      const a = await start(0, {priority: 150, trackScripts: [{name: 'chk', weight: -60}]}, scripts)
      const b = await start(1, {priority: 100, state: 'BACKUP'})
      await a.waitState('MASTER')
      await b.waitState('BACKUP')
      rmSync(flag)
      await waitFor('effective priority 90', async () => (await a.instance()).effectivePriority === 90, 5000)
      await b.waitState('MASTER', 5000)
      await a.waitState('BACKUP')
      await waitFor('the VIP to move to r1', () => seg.holders(vip).join() === '1')
      writeFileSync(flag, '')
      await a.waitState('MASTER', 6000)
      await b.waitState('BACKUP')
      await a.stop()

      const f = await start(0, {priority: 150, trackScripts: [{name: 'chk', weight: 0}]}, scripts)
      await f.waitState('MASTER', 5000)
      rmSync(flag)
      await f.waitState('FAULT', 5000)
      await b.waitState('MASTER', 5000)
      assert.deepEqual(seg.holders(vip), [1], 'FAULT releases the VIP')
      writeFileSync(flag, '')
      await f.waitState('MASTER', 6000)
    } finally {
      if (!existsSync(flag)) writeFileSync(flag, '')
      await stopAll()
    }
  })

  test('split brain when the link is cut, one master again when it heals', async () => {
    try {
      const a = await start(0, {priority: 150, state: 'MASTER'})
      const b = await start(1, {priority: 100})
      await a.waitState('MASTER')
      await b.waitState('BACKUP', 5000)
      seg.setForwarding(1, false)
      await b.waitState('MASTER', 5000)
      assert.equal((await a.instance()).state, 'MASTER', 'both are master while cut')
      assert.deepEqual(seg.holders(vip), [0, 1])
      seg.setForwarding(1, true)
      await b.waitState('BACKUP', 5000)
      await waitFor('one VIP holder again', () => seg.holders(vip).join() === '0', 3000)
      assert.equal((await a.instance()).state, 'MASTER')

      // A lost carrier is not a split brain: the instance on that interface is FAULT.
      seg.setPort(1, false)
      await b.waitState('FAULT', 3000)
      seg.setPort(1, true)
      await b.waitState('BACKUP', 5000)
      assert.deepEqual(seg.holders(vip), [0])
    } finally {
      seg.setForwarding(1, true)
      seg.setPort(1, true)
      await stopAll()
    }
  })

  test('unicast peers: election and graceful handover, adverts only to the peer', async () => {
    // Every daemon of earlier tests has stopped: whatever is on the wire from now is unicast.
    const t0 = Date.now() / 1000
    try {
      const uni = (i: number, j: number) => ({src: seg.address(i), peers: [seg.address(j)]})
      const a = await start(0, {priority: 150, unicast: uni(0, 1)})
      const b = await start(1, {priority: 100, unicast: uni(1, 0)})
      await a.waitState('MASTER', 5000)
      await b.waitState('BACKUP')
      await a.stop()
      await b.waitState('MASTER', 3000)
      await sleep(2 * ADV * 1000)
      const recent = cap.adverts(undefined, {after: t0})
      assert.ok(recent.length > 0)
      for (const p of recent) assert.ok(p.dst === seg.address(0) || p.dst === seg.address(1), `unicast advert went to ${p.dst}: ${p.line}`)
      assert.deepEqual(seg.holders(vip), [1])
    } finally {
      await stopAll()
    }
  })

  test('three routers: the next highest takes over, the lowest stays backup', async () => {
    try {
      const a = await start(0, {priority: 150, state: 'MASTER'})
      const b = await start(1, {priority: 120})
      const c = await start(2, {priority: 100})
      await a.waitState('MASTER')
      await b.waitState('BACKUP', 5000)
      await c.waitState('BACKUP', 5000)
      await a.stop()
      await b.waitState('MASTER', 3000)
      await sleep(4 * ADV * 1000)
      assert.equal((await c.instance()).state, 'BACKUP')
      assert.equal((await c.instance()).stats.become_master, 0)
      assert.deepEqual(seg.holders(vip), [1])
      // The master fails hard: the remaining backup takes over.
      await b.kill()
      await c.waitState('MASTER', 5000)
      assert.ok(seg.holders(vip).includes(2))
    } finally {
      await stopAll()
    }
  })

  test('hostile packets are counted and dropped; no mastership moves', async () => {
    try {
      const pass = {version: 2 as const, advertInt: 1, authPass: 'secret'}
      const a = await start(0, {priority: 150, state: 'MASTER', ...pass})
      const b = await start(1, {priority: 100, ...pass})
      await a.waitState('MASTER')
      await b.waitState('BACKUP', 5000)
      const before = await b.instance()
      const becameA = (await a.instance()).stats.become_master
      const send = (kind: string) => seg.exec(seg.clientNs, ['python3', '-c', HOSTILE, seg.clientAddress, kind, vip])
      const expect: [string, keyof typeof before.stats][] = [
        ['short', 'packet_len_err'],
        ['ttl', 'ip_ttl_err'],
        ['badpass', 'auth_failure'],
        ['noauth', 'authtype_mismatch'],
        ['badtype', 'invalid_type_rcvd'],
      ]
      for (const [kind, counter] of expect) {
        const was = (await b.instance()).stats[counter] ?? 0
        send(kind)
        await waitFor(`${counter} to rise after a ${kind} packet`, async () => ((await b.instance()).stats[counter] ?? 0) > was, 3000)
      }
      // Random garbage aimed at our VRID, a burst of it.
      for (let n = 0; n < 20; n++) send('garbage')
      await sleep(1500)
      assert.ok(a.running && b.running, 'both daemons still run')
      const ai = await a.instance()
      const bi = await b.instance()
      assert.equal(ai.state, 'MASTER')
      assert.equal(bi.state, 'BACKUP')
      assert.equal(ai.stats.become_master, becameA)
      assert.equal(bi.stats.become_master, before.stats.become_master)
      assert.deepEqual(seg.holders(vip), [0])
    } finally {
      await stopAll()
    }
  })

  test('kaopsd takeover: the backup takes over with no gap while the master restarts; --end gives it back', async () => {
    const probes: {stop: () => Promise<unknown>}[] = []
    try {
      const a = await start(0, {priority: 150})
      const b = await start(1, {priority: 100})
      await a.waitState('MASTER')
      await b.waitState('BACKUP')
      await waitFor('the VIP on r0 only', () => seg.holders(vip).join() === '0')
      // The client learns the VIP's MAC before we start counting.
      const warm = seg.ping(vip, 10)
      await sleep(300)
      await warm.stop()

      // Refusals first: nothing moves.
      const unknown = await b.takeoverCli(['--instance', 'VI_9'])
      assert.equal(unknown.code, 1)
      assert.match(unknown.stderr, /^kaopsd takeover: unknown VRRP instance VI_9 \(running: VI_1\)\n$/)
      assert.equal((await b.instance()).state, 'BACKUP')

      const t0 = Date.now() / 1000
      let ping = seg.ping(vip, 10)
      let sampler = seg.sampleHolders(vip, [0, 1])
      probes.push(ping, sampler)
      await sleep(300)
      const took = await b.takeoverCli(['--instance', 'VI_1', '--lease', '60', '--reason', 'lab: restart r0'])
      assert.equal(took.code, 0, took.stderr)
      assert.deepEqual(took.answer!.instances.map((i) => [i.name, i.state, i.effectivePriority, i.takeover?.reason]), [['VI_1', 'MASTER', 254, 'lab: restart r0']])
      assert.ok(took.answer!.instances[0]!.takeover!.secondsLeft <= 60 && took.answer!.instances[0]!.takeover!.secondsLeft >= 59)
      await a.waitState('BACKUP', 3000)
      await waitFor('the VIP on r1 only', () => seg.holders(vip).join() === '1', 3000)
      await sleep(500)
      // The new master's first advert comes after it added the VIP: r0 heard 254 and let go.
      await waitFor('a 254 advert from r1 on the wire', () => cap.adverts(seg.address(1), {prio: 254, after: t0}).length > 0, 3000)
      let samples = await sampler.stop()
      let loss = await ping.stop()
      const takeSamples = samples.length
      assert.ok(samples.length > 20, `${samples.length} samples`)
      assert.ok(samples.every((h) => h.length > 0), 'the VIP was held at every sample during the takeover')
      assert.ok(samples.some((h) => h.join() === '0,1'), 'an overlap was seen')
      const takeLoss = loss

      // What apply does next: restart r0's daemon. It comes back BACKUP under the 254 lease.
      await a.stop()
      const a2 = await start(0, {priority: 150})
      await a2.waitState('BACKUP')
      await sleep(4 * ADV * 1000)
      assert.equal((await a2.instance()).state, 'BACKUP', 'the restarted master does not preempt a takeover')
      const st = await b.instance()
      assert.equal(st.effectivePriority, 254)
      assert.ok(st.takeover && st.takeover.secondsLeft > 0 && st.takeover.reason === 'lab: restart r0', JSON.stringify(st.takeover))
      assert.match(b.output, /operator takeover: lab: restart r0 started for 60 s: priority 100 -> 254/)

      // --end: back to 100 at once; r0 (150, preempt) takes the VIP back after its down interval.
      const t1 = Date.now() / 1000
      ping = seg.ping(vip, 10)
      sampler = seg.sampleHolders(vip, [1, 0])
      probes.push(ping, sampler)
      await sleep(300)
      const ended = await b.takeoverCli(['--end', '--instance', 'VI_1'])
      assert.equal(ended.code, 0, ended.stderr)
      assert.deepEqual(ended.answer!.instances.map((i) => [i.name, i.state, i.effectivePriority, i.takeover]), [['VI_1', 'MASTER', 100, null]])
      await a2.waitState('MASTER', masterDownMs(150) + 2000)
      await b.waitState('BACKUP', 3000)
      await waitFor('the VIP on r0 only', () => seg.holders(vip).join() === '0', 3000)
      await sleep(500)
      samples = await sampler.stop()
      loss = await ping.stop()
      assert.ok(samples.every((h) => h.length > 0), 'the VIP was held at every sample while r0 took it back')
      // tcpdump's lines reach us through a pipe read between polls: wait for them.
      const back100 = await waitFor('r1 to advertise its own priority after --end', () => cap.adverts(seg.address(1), {prio: 100, after: t1})[0], 3000)
      const a150 = await waitFor('r0 to advertise as master again', () => cap.adverts(seg.address(0), {prio: 150, after: back100.t})[0], 3000)
      const last254 = cap.adverts(seg.address(1), {prio: 254, after: t0}).filter((p) => p.t < back100.t).at(-1)!
      const backMs = (a150.t - last254.t) * 1000
      assert.ok(backMs >= masterDownMs(150) - 5 && backMs <= masterDownMs(150) + 200, `r0 back ${backMs.toFixed(1)} ms after the last 254 advert, Master_Down_Interval ${masterDownMs(150)} ms`)
      assert.equal((await b.instance()).takeover, null)
      assert.match(b.output, /takeover ended \(operator\): priority 254 -> 100/)
      // The figures, for the report; the protocol facts are asserted above.
      console.log(`takeover: ${takeLoss.lost}/${takeLoss.sent} pings lost, ${takeSamples} holder samples; end: ${loss.lost}/${loss.sent} lost, ${samples.length} samples`)
      assert.equal(takeLoss.lost, 0, 'no ping lost during the takeover')
      assert.equal(loss.lost, 0, 'no ping lost while r0 took the VIP back')

      // An instance in FAULT cannot take over: refused with its name and state, nothing moves.
      seg.setPort(1, false)
      await b.waitState('FAULT', 3000)
      const refused = await b.takeoverCli([])
      assert.equal(refused.code, 1)
      assert.equal(refused.stderr, 'kaopsd takeover: cannot take over: VI_1 is FAULT\n')
      assert.equal((await b.instance()).takeover, null)
      assert.deepEqual(seg.holders(vip), [0])
    } finally {
      seg.setPort(1, true)
      for (const p of probes) await p.stop().catch(() => undefined)
      await stopAll()
    }
  })

  test('SIGHUP: an unchanged instance does not flap, a changed priority takes effect', async () => {
    try {
      const a = await start(0, {priority: 150, state: 'MASTER'})
      const b = await start(1, {priority: 100})
      await a.waitState('MASTER')
      await b.waitState('BACKUP', 5000)
      const became = (await a.instance()).stats.become_master
      const t0 = Date.now() / 1000
      // Same instance, a different file (a comment and an unrelated instance added).
      a.writeConfig(`# reloaded\n${vrrpConfig({routerId: 'r0', instances: [
        {version: 3, advertInt: ADV, vips: [`${vip}/24`], priority: 150, state: 'MASTER'},
        {name: 'VI_2', vrid: 52, version: 3, advertInt: ADV, vips: [`${seg.vip(101)}/24`], priority: 150},
      ]})}`)
      a.signal('SIGHUP')
      await waitFor('VI_2 to appear', async () => (await a.status()).instances.length === 2, 5000)
      await sleep(3 * ADV * 1000)
      const ai = await a.instance()
      assert.equal(ai.state, 'MASTER')
      assert.equal(ai.stats.become_master, became, 'no new become_master')
      assert.equal(ai.stats.pri_zero_sent, 0)
      assert.equal(cap.adverts(seg.address(0), {prio: 0, after: t0}).length, 0, 'no priority-0 advert on the wire')
      assert.ok(seg.addresses(0).includes(vip), 'VIP kept')
      assert.equal((await b.instance()).state, 'BACKUP')

      // The backup's priority is raised past the master's: it preempts.
      b.writeConfig(conf(1, {priority: 200}))
      b.signal('SIGHUP')
      await b.waitState('MASTER', 5000)
      await a.waitState('BACKUP', 3000)
      assert.equal((await b.instance()).priority, 200)
      await waitFor('the VIP to move to r1', () => seg.holders(vip).join() === '1', 3000)
    } finally {
      await stopAll()
    }
  })
})

/** python3 -c HOSTILE SRC KIND VIP: one bad VRRP packet to 224.0.0.18 (VRID 51). */
const HOSTILE = `
import os, socket, struct, sys
src, kind, vip = sys.argv[1], sys.argv[2], sys.argv[3]
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def v2(prio, authtype, pw, vt=0x21):
    body = struct.pack('!BBBBBBH', vt, 51, prio, 1, authtype, 1, 0) + socket.inet_aton(vip) + pw.ljust(8, b'\\0')[:8]
    return body[:6] + struct.pack('!H', csum(body)) + body[8:]
ttl = 255
if kind == 'short': pkt = bytes([0x21, 51, 1])
elif kind == 'ttl': pkt = v2(254, 1, b'secret'); ttl = 64
elif kind == 'badpass': pkt = v2(254, 1, b'wrong')
elif kind == 'noauth': pkt = v2(254, 0, b'')
elif kind == 'badtype': pkt = v2(254, 1, b'secret', 0x22)
else: pkt = bytes([0x21, 51]) + os.urandom(30)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
s.sendto(pkt, ('224.0.0.18', 0))
`
