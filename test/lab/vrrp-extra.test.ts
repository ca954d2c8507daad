// kaopsd's less common VRRP features on real packets, on a segment of its own
// (198.18.44.0/24, and the ULA fd00:198:44::/64 for IPv6, both only inside these namespaces):
// use_vmac (macvlan with the virtual MAC, seen on the wire and in the client's ARP table),
// IPv6 VRRPv3 between two kaopsd and against keepalived (unsolicited NA on takeover),
// vrrp_sync_group (one member's FAULT takes the group down, the peer's group up, notify GROUP),
// use_vmac with unicast peers and vmac_xmit_base (adverts on the base interface, VIP on the vmac),
// also against keepalived, and virtual_routes / static_ipaddress / static_routes following mastership.
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {chmodSync, existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {Daemon, KEEPALIVED, VrrpSegment, sleep, vrrpConfig, waitFor, whyNoVrrpLab} from './helpers/vrrp-net.js'

const why = whyNoVrrpLab({tcpdump: true})
const PREFIX = '198.18.44'
const V6 = 'fd00:198:44:'
const VMAC = '00:00:5e:00:01:33'

/** tcpdump -e on the bridge: every line kept, with the link-level header (source MAC). */
class EtherCapture {
  readonly lines: string[] = []
  constructor(readonly child: ChildProcess) {
    createInterface({input: child.stdout!}).on('line', (l) => this.lines.push(l))
  }
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
  }
}

describe('kaopsd VRRP extras: use_vmac, IPv6, sync groups, virtual routes', {skip: why ?? false, timeout: 150_000}, () => {
  let seg: VrrpSegment
  let cap: EtherCapture | undefined
  const running = new Set<Daemon>()

  before(async () => {
    seg = VrrpSegment.create({prefix: PREFIX, routers: 2, client: true})
  })
  after(() => {
    cap?.stop()
    seg?.destroy()
  })

  async function capture(filter: string[]): Promise<EtherCapture> {
    const child = spawn('ip', ['netns', 'exec', seg.brNs, 'tcpdump', '-i', 'br0', '-e', '-tt', '-n', '-l', ...filter], {stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    child.stderr!.on('data', (d) => (err += d))
    cap = new EtherCapture(child)
    await waitFor('tcpdump to listen', () => /listening on/.test(err), 5000, 20)
    return cap
  }

  async function stopAll(): Promise<void> {
    for (const d of running) if (d.running) await d.stop().catch(() => d.kill())
    running.clear()
    cap?.stop()
    cap = undefined
  }

  const ip = (i: number, args: string[]) => seg.exec(seg.routerNs(i), ['ip', ...args])
  const linkExists = (i: number, name: string) => {
    try {
      ip(i, ['link', 'show', 'dev', name])
      return true
    } catch {
      return false
    }
  }

  test('use_vmac: adverts and GARPs carry the virtual MAC; the client keeps one ARP entry over a failover', async () => {
    const vip = `${PREFIX}.100`
    const conf = (r: number, prio: number) =>
      [
        'global_defs {', `  router_id r${r}`, '}',
        'vrrp_instance VI_1 {', '  state BACKUP', '  interface eth0', '  use_vmac', '  virtual_router_id 51', `  priority ${prio}`,
        '  advert_int 0.5', '  version 3', '  virtual_ipaddress {', `    ${vip}/24`, '  }', '}',
      ].join('\n') + '\n'
    try {
      const c = await capture(['proto', '112', 'or', 'arp'])
      const a = await seg.startKaopsd(0, conf(0, 150))
      running.add(a)
      const b = await seg.startKaopsd(1, conf(1, 100))
      running.add(b)
      await a.waitState('MASTER')
      await b.waitState('BACKUP')
      for (const i of [0, 1]) {
        const link = JSON.parse(ip(i, ['-j', '-d', 'link', 'show', 'dev', 'vrrp.51']))[0]
        assert.equal(link.address, VMAC, `r${i} vmac MAC`)
        assert.equal(link.linkinfo.info_kind, 'macvlan')
        assert.equal(link.linkinfo.info_data.mode, 'private')
        assert.equal(seg.exec(seg.routerNs(i), ['cat', '/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore']).trim(), '1')
        assert.equal(seg.exec(seg.routerNs(i), ['cat', '/proc/sys/net/ipv4/conf/eth0/arp_ignore']).trim(), '1')
      }
      assert.match(ip(0, ['-4', '-br', 'addr', 'show', 'dev', 'vrrp.51']), new RegExp(`${vip.replaceAll('.', '\\.')}/24`))
      assert.doesNotMatch(ip(1, ['-4', '-br', 'addr', 'show', 'dev', 'vrrp.51']), new RegExp(vip.replaceAll('.', '\\.')))
      // The backup stays backup for several master-down intervals: it hears the master on its vmac.
      await sleep(2500)
      assert.equal((await b.instance()).state, 'BACKUP')
      assert.equal((await b.instance()).masterAddress, seg.address(0))
      assert.ok((await b.instance()).stats.advert_rcvd >= 3)

      const adverts = c.lines.filter((l) => /VRRPv3/.test(l) && l.includes(`${seg.address(0)} > 224.0.0.18`))
      assert.ok(adverts.length >= 3, `adverts from r0 seen: ${adverts.length}`)
      for (const l of adverts) assert.ok(l.includes(`${VMAC} > 01:00:5e:00:00:12`), `advert from the virtual MAC: ${l}`)
      const garps = c.lines.filter((l) => /ARP/.test(l) && l.includes(`${vip}`) && l.includes(VMAC))
      assert.ok(garps.length >= 1, `gratuitous ARP for ${vip} from ${VMAC}:\n${c.lines.filter((l) => /ARP/.test(l)).join('\n')}`)

      // The client resolves the VIP to the virtual MAC, and still does after the backup took over.
      const neigh = () => seg.exec(seg.clientNs, ['ip', '-j', 'neigh', 'show', vip])
      seg.exec(seg.clientNs, ['ping', '-c', '1', '-W', '2', vip])
      await sleep(300)
      assert.equal(JSON.parse(neigh())[0]?.lladdr, VMAC, c.lines.filter((l) => /ARP/.test(l)).join('\n') + ip(0, ['-br', 'link']) + ip(0, ['-br', 'addr']))
      const arpReplies = () => c.lines.filter((l) => /ARP, Reply/.test(l) && l.includes(`${vip} is-at`))
      for (const l of arpReplies()) assert.ok(l.includes(`is-at ${VMAC}`), `only the virtual MAC answers for the VIP: ${l}`)

      // SIGHUP with the same configuration keeps the vmac (same ifindex) and the state.
      const ifindexBefore = JSON.parse(ip(0, ['-j', 'link', 'show', 'dev', 'vrrp.51']))[0].ifindex
      a.signal('SIGHUP')
      await sleep(700)
      assert.equal(JSON.parse(ip(0, ['-j', 'link', 'show', 'dev', 'vrrp.51']))[0].ifindex, ifindexBefore)
      assert.equal((await a.instance()).state, 'MASTER')

      const seenBefore = c.lines.length
      await a.kill()
      // A SIGKILLed router leaves its vmac; take it away as a dead host's would vanish.
      ip(0, ['link', 'del', 'dev', 'vrrp.51'])
      await b.waitState('MASTER', 5000)
      await waitFor('a GARP from r1', () => c.lines.slice(seenBefore).some((l) => /ARP/.test(l) && l.includes(vip)), 3000)
      seg.exec(seg.clientNs, ['ping', '-c', '1', '-W', '2', vip])
      assert.equal(JSON.parse(neigh())[0]?.lladdr, VMAC, 'the client ARP entry did not change')
      const after = c.lines.slice(seenBefore).filter((l) => /VRRPv3/.test(l) && l.includes(`${seg.address(1)} > 224.0.0.18`))
      assert.ok(after.length >= 1 && after.every((l) => l.includes(`${VMAC} >`)), 'the new master advertises from the virtual MAC')
      // The switch learnt the virtual MAC on r1's port.
      const fdb = seg.exec(seg.brNs, ['bridge', 'fdb', 'show', 'br', 'br0'])
      assert.match(fdb, new RegExp(`${VMAC} dev p1`))

      // A graceful stop deletes the vmac it created.
      assert.equal(await b.stop(), 0)
      assert.equal(linkExists(1, 'vrrp.51'), false, 'vmac deleted on stop')
      assert.equal(seg.exec(seg.routerNs(1), ['cat', '/proc/sys/net/ipv4/conf/eth0/arp_ignore']).trim(), '0', 'parent sysctl restored')
    } finally {
      await stopAll()
      for (const i of [0, 1]) if (linkExists(i, 'vrrp.51')) ip(i, ['link', 'del', 'dev', 'vrrp.51'])
    }
  })
  // keepalived.conf(5): with use_vmac, adverts are sent and received on the vmac unless
  // vmac_xmit_base says the base interface; unicast peers need vmac_xmit_base (keepalived sets it
  // itself, with a warning). Either way the VIPs live on the vmac, so GARPs and ARP replies for
  // them carry the virtual MAC.
  /** The config of a use_vmac instance on eth0 of router r, with optional unicast peers and xmit_base. */
  const vmacConf = (r: number, o: {vrid: number; prio: number; vip: string; peers?: number[]; xmitBase?: boolean}) =>
    [
      'global_defs {', `  router_id r${r}`, '}',
      'vrrp_instance VI_1 {', '  state BACKUP', '  interface eth0', '  use_vmac', ...(o.xmitBase ? ['  vmac_xmit_base'] : []),
      `  virtual_router_id ${o.vrid}`, `  priority ${o.prio}`, '  advert_int 0.5', '  version 3',
      ...(o.peers ? [`  unicast_src_ip ${seg.address(r)}`, '  unicast_peer {', ...o.peers.map((p) => `    ${seg.address(p)}`), '  }'] : []),
      '  virtual_ipaddress {', `    ${o.vip}/24`, '  }', '}',
    ].join('\n') + '\n'
  const macOf = (i: number, dev: string): string => JSON.parse(ip(i, ['-j', 'link', 'show', 'dev', dev]))[0].address
  /** tcpdump -e lines of VRRP adverts for a VRID from an IPv4 source, after line `from`. */
  const advertLines = (c: EtherCapture, vrid: number, src: string, from = 0) =>
    c.lines.slice(from).filter((l) => new RegExp(`: ${src.replaceAll('.', '\\.')} > \\S+: VRRPv3, Advertisement, vrid ${vrid},`).test(l))
  const arpLinesFor = (c: EtherCapture, vip: string, from = 0) => c.lines.slice(from).filter((l) => /ARP/.test(l) && (l.includes(` ${vip} `) || l.includes(` ${vip},`)))
  const dropVmac = (i: number, name: string) => {
    if (linkExists(i, name)) ip(i, ['link', 'del', 'dev', name])
  }

  test('use_vmac with unicast peers: adverts unicast from the base interface, VIP and GARPs on the virtual MAC, takeover keeps the client\'s ARP entry', async () => {
    const vrid = 54
    const vmac = '00:00:5e:00:01:36'
    const vip = `${PREFIX}.104`
    const neigh = () => JSON.parse(seg.exec(seg.clientNs, ['ip', '-j', 'neigh', 'show', vip]))[0]?.lladdr as string | undefined
    try {
      const c = await capture(['proto', '112', 'or', 'arp'])
      const a = await seg.startKaopsd(0, vmacConf(0, {vrid, prio: 150, vip, peers: [1]}))
      running.add(a)
      const b = await seg.startKaopsd(1, vmacConf(1, {vrid, prio: 100, vip, peers: [0]}))
      running.add(b)
      await a.waitState('MASTER')
      await b.waitState('BACKUP')
      for (const i of [0, 1]) assert.equal(macOf(i, 'vrrp.54'), vmac, `r${i} vmac`)
      assert.match(ip(0, ['-4', '-br', 'addr', 'show', 'dev', 'vrrp.54']), new RegExp(`${vip.replaceAll('.', '\\.')}/24`), 'VIP on the master\'s vmac')
      assert.deepEqual(seg.holders(vip), [], 'the VIP is not on eth0')
      // Several master-down intervals: the backup hears the master's unicast adverts.
      await sleep(2500)
      assert.equal((await b.instance()).state, 'BACKUP', `backup still backup\n${b.output.slice(-1500)}`)
      assert.equal((await b.instance()).masterAddress, seg.address(0))
      assert.ok((await b.instance()).stats.advert_rcvd >= 3, `adverts received: ${(await b.instance()).stats.advert_rcvd}`)

      const base0 = macOf(0, 'eth0')
      const base1 = macOf(1, 'eth0')
      const adverts = advertLines(c, vrid, seg.address(0))
      assert.ok(adverts.length >= 3, `adverts from r0: ${adverts.length}\n${c.lines.slice(0, 10).join('\n')}`)
      for (const l of adverts) {
        assert.ok(l.includes(`${seg.address(0)} > ${seg.address(1)}:`), `unicast to the peer: ${l}`)
        assert.ok(l.includes(`${base0} > ${base1}`), `from the base interface's MAC to the peer's: ${l}`)
      }
      assert.equal(c.lines.filter((l) => l.includes('> 224.0.0.18') && l.includes(`vrid ${vrid},`)).length, 0, 'no multicast adverts')
      const garps = arpLinesFor(c, vip).filter((l) => l.includes(`${vmac} >`))
      assert.ok(garps.length >= 1, `gratuitous ARP for ${vip} from ${vmac}:\n${c.lines.filter((l) => /ARP/.test(l)).join('\n')}`)
      // Nothing ever claims the VIP with a real MAC, and the peer's address is never tied to the virtual MAC.
      for (const l of c.lines.filter((x) => /ARP/.test(x))) {
        assert.ok(!(l.includes(`${vip} is-at`) && !l.includes(`is-at ${vmac}`)), `ARP reply for the VIP with another MAC: ${l}`)
        assert.ok(!(l.includes(`tell ${seg.address(0)}`) && l.includes(`${vmac} >`)), `r0's own address announced from the virtual MAC: ${l}`)
      }

      seg.exec(seg.clientNs, ['ping', '-c', '1', '-W', '2', vip])
      assert.equal(neigh(), vmac, 'the client resolves the VIP to the virtual MAC')

      const mark = c.lines.length
      await a.kill()
      // A SIGKILLed router leaves its vmac (and the VIP on it); a dead host's would vanish.
      ip(0, ['link', 'del', 'dev', 'vrrp.54'])
      await b.waitState('MASTER', 5000)
      await waitFor('a GARP from r1\'s vmac', () => arpLinesFor(c, vip, mark).some((l) => l.includes(`${vmac} >`)), 3000)
      assert.match(ip(1, ['-4', '-br', 'addr', 'show', 'dev', 'vrrp.54']), new RegExp(`${vip.replaceAll('.', '\\.')}/24`))
      seg.exec(seg.clientNs, ['ping', '-c', '1', '-W', '2', vip])
      assert.equal(neigh(), vmac, 'the client ARP entry did not change')
      await waitFor('r1 adverts', () => advertLines(c, vrid, seg.address(1), mark).length >= 2, 3000)
      for (const l of advertLines(c, vrid, seg.address(1), mark)) {
        assert.ok(l.includes(`${seg.address(1)} > ${seg.address(0)}:`) && l.includes(`${base1} >`), `new master: unicast from its base MAC: ${l}`)
      }
      assert.match(seg.exec(seg.brNs, ['bridge', 'fdb', 'show', 'br', 'br0']), new RegExp(`${vmac} dev p1`), 'the switch learnt the virtual MAC on r1\'s port')
      assert.equal(await b.stop(), 0)
      assert.equal(linkExists(1, 'vrrp.54'), false)
    } finally {
      await stopAll()
      for (const i of [0, 1]) dropVmac(i, 'vrrp.54')
    }
  })

  test('vmac_xmit_base: multicast adverts leave eth0 with its own MAC while the VIP and its GARPs stay on the vmac', async () => {
    const vrid = 55
    const vmac = '00:00:5e:00:01:37'
    const vip = `${PREFIX}.105`
    try {
      const c = await capture(['proto', '112', 'or', 'arp'])
      const a = await seg.startKaopsd(0, vmacConf(0, {vrid, prio: 150, vip, xmitBase: true}))
      running.add(a)
      const b = await seg.startKaopsd(1, vmacConf(1, {vrid, prio: 100, vip, xmitBase: true}))
      running.add(b)
      await a.waitState('MASTER')
      await b.waitState('BACKUP')
      assert.equal(macOf(0, 'vrrp.55'), vmac)
      assert.match(ip(0, ['-4', '-br', 'addr', 'show', 'dev', 'vrrp.55']), new RegExp(`${vip.replaceAll('.', '\\.')}/24`), 'VIP on the vmac')
      await sleep(2000)
      assert.equal((await b.instance()).state, 'BACKUP', 'the backup hears the master\'s adverts on the base interface')
      assert.ok((await b.instance()).stats.advert_rcvd >= 3)
      const base0 = macOf(0, 'eth0')
      const adverts = advertLines(c, vrid, seg.address(0))
      assert.ok(adverts.length >= 3, `adverts from r0: ${adverts.length}`)
      for (const l of adverts) assert.ok(l.includes(`${base0} > 01:00:5e:00:00:12`) && l.includes('> 224.0.0.18:'), `advert from eth0's MAC to the group: ${l}`)
      assert.ok(arpLinesFor(c, vip).some((l) => l.includes(`${vmac} >`)), `GARP for the VIP from the virtual MAC:\n${c.lines.filter((l) => /ARP/.test(l)).join('\n')}`)
      seg.exec(seg.clientNs, ['ping', '-c', '1', '-W', '2', vip])
      assert.equal(JSON.parse(seg.exec(seg.clientNs, ['ip', '-j', 'neigh', 'show', vip]))[0]?.lladdr, vmac)

      const mark = c.lines.length
      await a.kill()
      ip(0, ['link', 'del', 'dev', 'vrrp.55'])
      await b.waitState('MASTER', 5000)
      const base1 = macOf(1, 'eth0')
      await waitFor('r1 adverts', () => advertLines(c, vrid, seg.address(1), mark).length >= 2, 3000)
      for (const l of advertLines(c, vrid, seg.address(1), mark)) assert.ok(l.includes(`${base1} > 01:00:5e:00:00:12`), `new master advertises from eth0's MAC: ${l}`)
      await waitFor('a GARP from r1\'s vmac', () => arpLinesFor(c, vip, mark).some((l) => l.includes(`${vmac} >`)), 3000)
      assert.equal(await b.stop(), 0)
    } finally {
      await stopAll()
      for (const i of [0, 1]) dropVmac(i, 'vrrp.55')
    }
  })

  test('use_vmac with unicast peers against keepalived: each backs up the other and takes over, the VIP stays on the virtual MAC', {skip: existsSync(KEEPALIVED) ? false : 'no keepalived'}, async () => {
    const vrid = 56
    const vmac = '00:00:5e:00:01:38'
    const vip = `${PREFIX}.106`
    const neigh = () => JSON.parse(seg.exec(seg.clientNs, ['ip', '-j', 'neigh', 'show', vip]))[0]?.lladdr as string | undefined
    try {
      const c = await capture(['proto', '112', 'or', 'arp'])
      // keepalived master (it sets vmac_xmit_base itself for unicast), kaopsd backup.
      const k = await seg.startKeepalived(0, vmacConf(0, {vrid, prio: 150, vip, peers: [1]}))
      running.add(k)
      await k.waitState('MASTER', 6000)
      const d = await seg.startKaopsd(1, vmacConf(1, {vrid, prio: 100, vip, peers: [0]}))
      running.add(d)
      await d.waitState('BACKUP')
      await sleep(2000)
      assert.equal((await d.instance()).state, 'BACKUP', `kaopsd hears keepalived's unicast adverts\n${d.output.slice(-1500)}`)
      assert.equal((await d.instance()).masterAddress, seg.address(0))
      const kAdverts = advertLines(c, vrid, seg.address(0))
      assert.ok(kAdverts.length >= 3 && kAdverts.every((l) => l.includes(`${seg.address(0)} > ${seg.address(1)}:`) && l.includes(`${macOf(0, 'eth0')} >`)), `keepalived: unicast from eth0\n${kAdverts.slice(0, 3).join('\n')}`)
      seg.exec(seg.clientNs, ['ping', '-c', '1', '-W', '2', vip])
      assert.equal(neigh(), vmac)

      const mark = c.lines.length
      await k.kill()
      dropVmac(0, 'vrrp.56')
      await d.waitState('MASTER', 5000)
      await waitFor('a GARP from kaopsd\'s vmac', () => arpLinesFor(c, vip, mark).some((l) => l.includes(`${vmac} >`)), 3000)
      seg.exec(seg.clientNs, ['ping', '-c', '1', '-W', '2', vip])
      assert.equal(neigh(), vmac, 'the client ARP entry did not change')

      // keepalived back with a lower priority: it hears kaopsd's unicast adverts and stays backup.
      const k2 = await seg.startKeepalived(0, vmacConf(0, {vrid, prio: 50, vip, peers: [1]}))
      running.add(k2)
      await sleep(2000)
      assert.equal(k2.lastKeepalivedState('VI_1'), 'BACKUP', `keepalived accepts kaopsd's adverts\n${k2.output.slice(-1500)}`)
      assert.equal((await d.instance()).state, 'MASTER')
      assert.ok(advertLines(c, vrid, seg.address(1), mark).every((l) => l.includes(`${seg.address(1)} > ${seg.address(0)}:`) && l.includes(`${macOf(1, 'eth0')} >`)))
    } finally {
      await stopAll()
      for (const i of [0, 1]) dropVmac(i, 'vrrp.56')
    }
  })

  test('IPv6 VRRPv3: election and takeover between two kaopsd and with keepalived; unsolicited NA for the VIP', async () => {
    const vip = `${V6}:100`
    const conf = (r: number, prio: number) => vrrpConfig({routerId: `r${r}`, instances: [{vrid: 52, priority: prio, version: 3, advertInt: 0.5, vips: [`${vip}/64`]}]})
    const nas = (c: EtherCapture, from = 0) =>
      c.lines.slice(from).filter((l) => /ICMP6, neighbor advertisement/.test(l) && l.includes(`tgt is ${vip}`))
    const holds = (i: number) => ip(i, ['-6', 'addr', 'show', 'dev', 'eth0']).includes(`${vip}/64`)
    try {
      // VRRP for IPv6 speaks from the link-local address: wait until DAD has finished with it.
      for (const i of [0, 1]) {
        await waitFor(`r${i} link-local`, () => /fe80::\S+ scope link\s*$/m.test(ip(i, ['-6', 'addr', 'show', 'dev', 'eth0'])) && !/tentative/.test(ip(i, ['-6', 'addr', 'show', 'dev', 'eth0'])), 5000)
      }
      const c = await capture(['ip6', 'proto', '112', 'or', 'icmp6'])
      const a = await seg.startKaopsd(0, conf(0, 150))
      running.add(a)
      const b = await seg.startKaopsd(1, conf(1, 100))
      running.add(b)
      await a.waitState('MASTER')
      await b.waitState('BACKUP')
      assert.equal(holds(0), true)
      assert.equal(holds(1), false)
      // A backup knows the master once it heard an advert (it is BACKUP from its first moment).
      await waitFor('r1 to learn the master\'s link-local address', async () => /^fe80:/.test((await b.instance()).masterAddress ?? ''), 3000)
      await waitFor('an unsolicited NA from r0', () => nas(c).length > 0, 3000)
      assert.ok(c.lines.some((l) => /> ff02::12: VRRPv3, Advertisement, vrid 52, prio 150/.test(l)), 'v3 adverts to ff02::12')

      const mark = c.lines.length
      await a.kill()
      await b.waitState('MASTER', 5000)
      await waitFor('an unsolicited NA from r1', () => nas(c, mark).length > 0, 3000)
      assert.equal(holds(1), true)
      ip(0, ['-6', 'addr', 'del', `${vip}/64`, 'dev', 'eth0'])
      assert.equal(await b.stop(), 0)
      running.clear()

      if (!existsSync(KEEPALIVED)) return
      // keepalived as master, kaopsd as backup: kaopsd takes over when keepalived stops.
      const k = await seg.startKeepalived(0, conf(0, 150))
      running.add(k)
      await k.waitState('MASTER', 6000)
      const d = await seg.startKaopsd(1, conf(1, 100))
      running.add(d)
      await d.waitState('BACKUP')
      await sleep(1600)
      assert.equal((await d.instance()).state, 'BACKUP', 'kaopsd accepts keepalived\'s IPv6 adverts')
      const mark2 = c.lines.length
      await k.stop()
      await d.waitState('MASTER', 3000)
      await waitFor('an unsolicited NA from kaopsd', () => nas(c, mark2).some((l) => !l.includes(' > ff02::12')), 3000)
      // And keepalived, back with a lower priority, stays backup behind kaopsd's adverts.
      const k2 = await seg.startKeepalived(0, conf(0, 50))
      running.add(k2)
      await sleep(2000)
      assert.equal(k2.lastKeepalivedState('VI_1'), 'BACKUP', 'keepalived accepts kaopsd\'s IPv6 adverts')
      assert.equal((await d.instance()).state, 'MASTER')
      assert.equal(holds(0), false)
    } finally {
      await stopAll()
      for (const i of [0, 1]) if (holds(i)) ip(i, ['-6', 'addr', 'del', `${vip}/64`, 'dev', 'eth0'])
    }
  })
  test('vrrp_sync_group: one member FAULT takes the group to FAULT and the peer group to MASTER; notify GROUP; virtual and static routes', async () => {
    const flag = (r: number) => join(seg.dir, `healthy-r${r}`)
    const notifyLog = (r: number) => join(seg.dir, `notify-r${r}.log`)
    const conf = (r: number, prio: number) => {
      const script = join(seg.dir, `notify-r${r}.sh`)
      writeFileSync(script, `#!/bin/sh\necho "$*" >> ${notifyLog(r)}\n`)
      chmodSync(script, 0o755)
      const inst = (name: string, vrid: number, vip: string, extra: string[]) => [
        `vrrp_instance ${name} {`, '  state BACKUP', '  interface eth0', `  virtual_router_id ${vrid}`, `  priority ${prio}`,
        '  advert_int 0.5', '  version 3', '  virtual_ipaddress {', `    ${vip}/24 dev eth0`, '  }', ...extra, '}',
      ]
      return [
        'global_defs {', `  router_id r${r}`, '  enable_script_security', '  script_user root', '}',
        'static_ipaddress {', `  198.18.46.${r + 1}/32 dev lo`, '}',
        'static_routes {', `  198.18.47.0/24 via ${seg.clientAddress} dev eth0`, '}',
        'vrrp_script chk {', `  script "/usr/bin/test -e ${flag(r)}"`, '  interval 1', '  fall 1', '  rise 1', '}',
        'vrrp_sync_group G {', '  group {', '    VI_A', '    VI_B', '  }', `  notify ${script}`, '}',
        ...inst('VI_A', 61, `${PREFIX}.101`, ['  virtual_routes {', `    198.18.45.0/24 via ${seg.clientAddress} dev eth0`, '  }']),
        ...inst('VI_B', 62, `${PREFIX}.102`, ['  track_script {', '    chk weight 0', '  }']),
      ].join('\n') + '\n'
    }
    const route = (i: number, dst: string) => ip(i, ['-4', 'route', 'show', dst]).trim()
    const groupLines = (r: number) => (existsSync(notifyLog(r)) ? readFileSync(notifyLog(r), 'utf8') : '').split('\n').filter((l) => l.startsWith('GROUP'))
    try {
      for (const r of [0, 1]) writeFileSync(flag(r), '')
      const a = await seg.startKaopsd(0, conf(0, 150))
      running.add(a)
      const b = await seg.startKaopsd(1, conf(1, 100))
      running.add(b)
      for (const n of ['VI_A', 'VI_B']) {
        await a.waitState('MASTER', 10_000, n)
        await b.waitState('BACKUP', 10_000, n)
      }
      assert.deepEqual(seg.holders(`${PREFIX}.101`), [0])
      assert.deepEqual(seg.holders(`${PREFIX}.102`), [0])
      await waitFor('virtual route on the master', () => route(0, '198.18.45.0/24').includes(`via ${seg.clientAddress}`), 3000)
      assert.equal(route(1, '198.18.45.0/24'), '', 'no virtual route on the backup')
      for (const r of [0, 1]) {
        assert.match(route(r, '198.18.47.0/24'), /via/, `static route on r${r}`)
        assert.match(ip(r, ['-4', 'addr', 'show', 'dev', 'lo']), new RegExp(`198\\.18\\.46\\.${r + 1}/32`), `static address on r${r}`)
      }
      await waitFor('GROUP G MASTER notified on r0', () => groupLines(0).includes('GROUP G MASTER 0') || groupLines(0).some((l) => /^GROUP G MASTER/.test(l)), 3000)
      await waitFor('GROUP G BACKUP notified on r1', () => groupLines(1).some((l) => /^GROUP G BACKUP/.test(l)), 3000)

      // VI_B's script fails (weight 0): VI_B goes FAULT, its group partner VI_A follows, and the
      // peer takes both over.
      rmSync(flag(0))
      await a.waitState('FAULT', 5000, 'VI_B')
      await a.waitState('FAULT', 2000, 'VI_A')
      await b.waitState('MASTER', 5000, 'VI_A')
      await b.waitState('MASTER', 2000, 'VI_B')
      await waitFor('both VIPs on r1 only', () => seg.holders(`${PREFIX}.101`).join() === '1' && seg.holders(`${PREFIX}.102`).join() === '1', 3000)
      await waitFor('virtual route moved', () => route(0, '198.18.45.0/24') === '' && route(1, '198.18.45.0/24').includes('via'), 3000)
      await waitFor('GROUP G FAULT notified on r0', () => groupLines(0).some((l) => /^GROUP G FAULT/.test(l)), 3000)
      await waitFor('GROUP G MASTER notified on r1', () => groupLines(1).some((l) => /^GROUP G MASTER/.test(l)), 3000)
      assert.ok(!groupLines(1).some((l) => /FAULT/.test(l)), `r1 group never faulted: ${groupLines(1).join(' | ')}`)

      // The script recovers: r0 preempts with the whole group.
      writeFileSync(flag(0), '')
      await a.waitState('MASTER', 6000, 'VI_B')
      await a.waitState('MASTER', 3000, 'VI_A')
      await b.waitState('BACKUP', 3000, 'VI_A')
      await b.waitState('BACKUP', 3000, 'VI_B')
      await waitFor('virtual route back on r0', () => route(0, '198.18.45.0/24').includes('via') && route(1, '198.18.45.0/24') === '', 3000)
      // Static routes and addresses stay whatever the state.
      for (const r of [0, 1]) assert.match(route(r, '198.18.47.0/24'), /via/)
    } finally {
      await stopAll()
    }
  })
  test('use_vmac for IPv6: vmac 00:00:5e:00:02:VRID with the parent\'s link-local, adverts and NAs from it, takeover', async () => {
    const vip = `${V6}:105`
    const mac6 = '00:00:5e:00:02:35'
    const conf = (r: number, prio: number) =>
      [
        'global_defs {', `  router_id r${r}`, '}',
        'vrrp_instance VI_6 {', '  state BACKUP', '  interface eth0', '  use_vmac', '  virtual_router_id 53', `  priority ${prio}`,
        '  advert_int 0.5', '  version 3', '  virtual_ipaddress {', `    ${vip}/64`, '  }', '}',
      ].join('\n') + '\n'
    try {
      const c = await capture(['ip6', 'proto', '112', 'or', 'icmp6'])
      const a = await seg.startKaopsd(0, conf(0, 150))
      running.add(a)
      const b = await seg.startKaopsd(1, conf(1, 100))
      running.add(b)
      await a.waitState('MASTER', 10_000, 'VI_6')
      await b.waitState('BACKUP', 10_000, 'VI_6')
      const link = JSON.parse(ip(0, ['-j', 'link', 'show', 'dev', 'vrrp.53']))[0]
      assert.equal(link.address, mac6)
      const parentLl = /inet6 (fe80::\S+)\/64/.exec(ip(0, ['-6', 'addr', 'show', 'dev', 'eth0']))?.[1]
      assert.ok(parentLl && ip(0, ['-6', 'addr', 'show', 'dev', 'vrrp.53']).includes(parentLl), 'the vmac carries the parent\'s link-local')
      assert.ok(ip(0, ['-6', 'addr', 'show', 'dev', 'vrrp.53']).includes(`${vip}/64`))
      await sleep(2000)
      assert.equal((await b.instance('VI_6')).state, 'BACKUP', 'the backup hears the master on its vmac')
      const adverts = c.lines.filter((l) => /VRRPv3, Advertisement, vrid 53, prio 150/.test(l))
      assert.ok(adverts.length >= 3 && adverts.every((l) => l.includes(`${mac6} > 33:33:00:00:00:12`)), `adverts from ${mac6}:\n${adverts.slice(0, 3).join('\n')}`)
      assert.ok(c.lines.some((l) => /neighbor advertisement/.test(l) && l.includes(`tgt is ${vip}`) && l.includes(`${mac6} >`)), 'unsolicited NA from the virtual MAC')
      await a.kill()
      ip(0, ['link', 'del', 'dev', 'vrrp.53'])
      await b.waitState('MASTER', 5000, 'VI_6')
      assert.equal(await b.stop(), 0)
      assert.equal(linkExists(1, 'vrrp.53'), false)
    } finally {
      await stopAll()
      for (const i of [0, 1]) if (linkExists(i, 'vrrp.53')) ip(i, ['link', 'del', 'dev', 'vrrp.53'])
    }
  })
})
