// kaopsd's less common VRRP features on real packets, on a segment of its own
// (198.18.44.0/24, and the ULA fd00:198:44::/64 for IPv6, both only inside these namespaces):
// use_vmac (macvlan with the virtual MAC, seen on the wire and in the client's ARP table),
// IPv6 VRRPv3 between two kaopsd and against keepalived (unsolicited NA on takeover),
// vrrp_sync_group (one member's FAULT takes the group down, the peer's group up, notify GROUP),
// and virtual_routes / static_ipaddress / static_routes following mastership.
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
      assert.match((await b.instance()).masterAddress ?? '', /^fe80:/)
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
})
