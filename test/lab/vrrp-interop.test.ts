// kaopsd next to a real keepalived 2.2 (Debian's package) on one bridge (198.18.41.0/24, routed
// nowhere): v2 and v3, multicast and unicast. In each combination kaopsd is first the master
// and keepalived the backup, then the other way round; each takes over from the other after a
// graceful stop (priority 0, after the skew time) and after a hard failure (SIGKILL, after
// Master_Down_Interval), and a returning higher priority preempts. Timing bounds are loose; the
// numbers belong to `npm run bench:failover`.
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {Capture, Daemon, VrrpSegment, vrrpConfig, waitFor, whyNoVrrpLab, sleep} from './helpers/vrrp-net.js'

const why = whyNoVrrpLab({keepalived: true, tcpdump: true})

describe('kaopsd and keepalived 2.2 on one segment', {skip: why ?? false, timeout: 300_000}, () => {
  let seg: VrrpSegment
  let cap: Capture
  let vip: string
  const started: Daemon[] = []

  before(async () => {
    // The client namespace pings the VIP in the takeover scenario.
    seg = VrrpSegment.create({prefix: '198.18.41', routers: 2, client: true})
    cap = await seg.capture()
    vip = seg.vip()
  })
  after(async () => {
    await cap?.stop()
    seg?.destroy()
  })

  /** Router 0 runs kaopsd, router 1 keepalived. */
  async function scenario(version: 2 | 3, unicast: boolean): Promise<void> {
    const adv = version === 2 ? 1 : 0.3
    // RFC 3768: (256 - prio) / 256 s; RFC 5798 scales it by the advert interval (1 s for v2 here).
    const skewMs = (prio: number) => ((256 - prio) * adv * 1000) / 256
    const mdiMs = (prio: number) => 3 * adv * 1000 + skewMs(prio)
    const conf = (i: number, priority: number, state?: 'MASTER') =>
      vrrpConfig({
        routerId: i === 0 ? 'kaopsd' : 'keepalived',
        instances: [
          {version, advertInt: adv, vips: [`${vip}/24`], priority, ...(state ? {state} : {}), ...(unicast ? {unicast: {src: seg.address(i), peers: [seg.address(1 - i)]}} : {})},
        ],
      })
    const kaopsd = async (prio: number, state?: 'MASTER') => track(await seg.startKaopsd(0, conf(0, prio, state)))
    const keepalived = async (prio: number, state?: 'MASTER') => track(await seg.startKeepalived(1, conf(1, prio, state)))
    const wait = 3 * mdiMs(1) + 2000

    /** From the last advert of `from` (or its priority-0 advert) to the first of `to` after it. */
    const gap = async (from: number, to: number, prio0: boolean): Promise<number> => {
      await sleep(50)
      const last = prio0 ? cap.adverts(seg.address(from), {prio: 0}).at(-1) : cap.adverts(seg.address(from)).at(-1)
      assert.ok(last, `an advert from router ${from}${prio0 ? ' with priority 0' : ''}`)
      const first = await waitFor('the new master to advertise', () => cap.adverts(seg.address(to), {after: last.t})[0], 2000)
      return (first.t - last.t) * 1000
    }
    const within = (ms: number, expected: number, what: string) =>
      assert.ok(ms >= expected - 5 && ms <= expected + 250, `${what}: ${ms.toFixed(1)} ms, expected ${expected.toFixed(1)} ms (v${version} ${unicast ? 'unicast' : 'multicast'})`)
    const dropStale = (i: number) => {
      if (seg.addresses(i).includes(vip)) seg.exec(seg.routerNs(i), ['ip', 'addr', 'del', `${vip}/24`, 'dev', 'eth0'])
    }

    // kaopsd master, keepalived backup.
    let k = await kaopsd(150, 'MASTER')
    let l = await keepalived(100)
    await k.waitState('MASTER', wait)
    await l.waitState('BACKUP', wait)
    assert.deepEqual(seg.holders(vip), [0])

    // kaopsd stops: keepalived takes over after its skew time.
    await k.stop()
    await l.waitState('MASTER', wait)
    within(await gap(0, 1, true), skewMs(100), 'keepalived after kaopsd priority 0')
    await waitFor('the VIP on keepalived only', () => seg.holders(vip).join() === '1', 2000)

    // kaopsd returns with the higher priority and preempts keepalived.
    k = await kaopsd(150, 'MASTER')
    await k.waitState('MASTER', wait)
    await l.waitState('BACKUP', wait)
    await waitFor('the VIP on kaopsd only', () => seg.holders(vip).join() === '0', 2000)

    // kaopsd dies: keepalived takes over after Master_Down_Interval.
    await k.kill()
    await l.waitState('MASTER', wait)
    within(await gap(0, 1, false), mdiMs(100), 'keepalived after kaopsd SIGKILL')
    dropStale(0)

    // Roles swapped: keepalived is the master, kaopsd the backup.
    k = await kaopsd(50)
    await k.waitState('BACKUP', wait)
    // It learns who the master is from the next advert.
    await waitFor('kaopsd to name keepalived as master', async () => (await k.instance()).masterAddress === seg.address(1), 3 * adv * 1000 + 500)

    // keepalived stops: kaopsd takes over after its skew time.
    await l.stop()
    await k.waitState('MASTER', wait)
    within(await gap(1, 0, true), skewMs(50), 'kaopsd after keepalived priority 0')
    await waitFor('the VIP on kaopsd only', () => seg.holders(vip).join() === '0', 2000)

    // keepalived returns with the higher priority and preempts kaopsd.
    l = await keepalived(100)
    await l.waitState('MASTER', wait)
    await k.waitState('BACKUP', wait)
    await waitFor('the VIP on keepalived only', () => seg.holders(vip).join() === '1', 2000)

    // keepalived dies (its VRRP child too): kaopsd takes over after Master_Down_Interval.
    await l.kill()
    await k.waitState('MASTER', wait)
    within(await gap(1, 0, false), mdiMs(50), 'kaopsd after keepalived SIGKILL')
    dropStale(1)
    const st = await k.instance()
    assert.equal(st.stats.pri_zero_rcvd, 1)
    assert.ok(st.stats.advert_rcvd > 0)
    for (const c of ['packet_len_err', 'ip_ttl_err', 'invalid_type_rcvd', 'addr_list_err', 'invalid_authtype', 'authtype_mismatch', 'auth_failure'] as const) {
      assert.equal(st.stats[c], 0, `${c} stays 0 with keepalived's packets`)
    }
  }

  function track(d: Daemon): Daemon {
    started.push(d)
    return d
  }

  async function cleanUp(): Promise<void> {
    for (const d of started.splice(0)) if (d.running) await d.kill()
    for (const i of [0, 1]) if (seg.addresses(i).includes(vip)) seg.exec(seg.routerNs(i), ['ip', 'addr', 'del', `${vip}/24`, 'dev', 'eth0'])
  }

  test('kaopsd takeover from a keepalived MASTER and back, with no gap either way', async () => {
    const probes: {stop: () => Promise<unknown>}[] = []
    const adv = 1
    const mdiMs = (prio: number) => 3 * adv * 1000 + ((256 - prio) * 1000) / 256
    const conf = (i: number, priority: number, state?: 'MASTER') =>
      vrrpConfig({routerId: i === 0 ? 'kaopsd' : 'keepalived', instances: [{version: 2, advertInt: adv, vips: [`${vip}/24`], priority, ...(state ? {state} : {})}]})
    try {
      let l = track(await seg.startKeepalived(1, conf(1, 150, 'MASTER')))
      const k = track(await seg.startKaopsd(0, conf(0, 100)))
      await l.waitState('MASTER', 10_000)
      await k.waitState('BACKUP', 10_000)
      await waitFor('kaopsd to name keepalived as master', async () => (await k.instance()).masterAddress === seg.address(1), 3000)
      assert.deepEqual(seg.holders(vip), [1])
      const warm = seg.ping(vip, 10)
      await sleep(300)
      await warm.stop()

      // kaopsd takes over: keepalived hears 254 and goes BACKUP, after kaopsd holds the VIP.
      const t0 = Date.now() / 1000
      let ping = seg.ping(vip, 10)
      let sampler = seg.sampleHolders(vip, [1, 0])
      probes.push(ping, sampler)
      await sleep(300)
      const took = await k.takeoverCli(['--instance', 'VI_1', '--lease', '120'])
      assert.equal(took.code, 0, took.stderr)
      assert.deepEqual(took.answer!.instances.map((i) => [i.state, i.effectivePriority]), [['MASTER', 254]])
      await l.waitState('BACKUP', 3000)
      await waitFor('the VIP on kaopsd only', () => seg.holders(vip).join() === '0', 3000)
      await sleep(500)
      let samples = await sampler.stop()
      const takeLoss = await ping.stop()
      assert.ok(samples.length > 20, `${samples.length} samples`)
      assert.ok(samples.every((h) => h.length > 0), 'the VIP was held at every sample while kaopsd took over')
      assert.match(l.output, /\(VI_1\) Master received advert from 198\.18\.41\.11 with higher priority 254, ours 150/)

      // apply restarts keepalived: it comes back BACKUP under the lease.
      await l.stop()
      l = track(await seg.startKeepalived(1, conf(1, 150)))
      await l.waitState('BACKUP', 10_000)
      await sleep(4 * adv * 1000)
      assert.equal(l.lastKeepalivedState(), 'BACKUP')
      assert.equal((await k.instance()).state, 'MASTER')

      // --end: kaopsd advertises 100 at once; keepalived (150, preempt) takes the VIP back.
      ping = seg.ping(vip, 10)
      sampler = seg.sampleHolders(vip, [0, 1])
      probes.push(ping, sampler)
      await sleep(300)
      const t1 = Date.now() / 1000
      const ended = await k.takeoverCli(['--end'])
      assert.equal(ended.code, 0, ended.stderr)
      assert.deepEqual(ended.answer!.instances.map((i) => [i.state, i.effectivePriority, i.takeover]), [['MASTER', 100, null]])
      await l.waitState('MASTER', mdiMs(150) + 2000)
      await k.waitState('BACKUP', 3000)
      await waitFor('the VIP on keepalived only', () => seg.holders(vip).join() === '1', 3000)
      await sleep(500)
      samples = await sampler.stop()
      const endLoss = await ping.stop()
      assert.ok(samples.every((h) => h.length > 0), 'the VIP was held at every sample while keepalived took it back')
      const back100 = await waitFor('kaopsd to advertise 100 after --end', () => cap.adverts(seg.address(0), {prio: 100, after: t1})[0], 3000)
      const l150 = await waitFor('keepalived to advertise as master again', () => cap.adverts(seg.address(1), {prio: 150, after: back100.t})[0], 3000)
      const last254 = cap.adverts(seg.address(0), {prio: 254, after: t0}).filter((p) => p.t < back100.t).at(-1)!
      const backMs = (l150.t - last254.t) * 1000
      assert.ok(backMs >= mdiMs(150) - 5 && backMs <= mdiMs(150) + 250, `keepalived back ${backMs.toFixed(1)} ms after the last 254 advert, Master_Down_Interval ${mdiMs(150)} ms`)
      console.log(`takeover from keepalived: ${takeLoss.lost}/${takeLoss.sent} pings lost; keepalived back: ${endLoss.lost}/${endLoss.sent} lost`)
      assert.equal(takeLoss.lost, 0, 'no ping lost while kaopsd took over')
      assert.equal(endLoss.lost, 0, 'no ping lost while keepalived took the VIP back')
    } finally {
      for (const p of probes) await p.stop().catch(() => undefined)
      await cleanUp()
    }
  })

  for (const [version, unicast] of [[3, false], [3, true], [2, false], [2, true]] as const) {
    test(`VRRPv${version} ${unicast ? 'unicast' : 'multicast'}: each takes over from the other, graceful and hard`, async () => {
      try {
        await scenario(version, unicast)
      } finally {
        await cleanUp()
      }
    })
  }
})
