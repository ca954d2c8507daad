// The native raw-socket addon on the wire: two network namespaces joined by a veth pair
// (198.19.253.0/24, routed nowhere; IPv6 link-local only), a VRRP-protocol raw socket in each.
// Multicast one way, unicast the other, IPv6 multicast, and a gratuitous ARP through the
// packet socket, seen by tcpdump on the other end. Needs root and `ip`; tcpdump for the frame.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync, spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {createInterface} from 'node:readline'
import {devAddonPath} from '../../src/daemon/os/native.js'

const peerScript = 'test/lab/helpers/raw-peer.ts'
const suffix = `${process.pid % 100000}`
const nsA = `kaops-rs-a-${suffix}`
const nsB = `kaops-rs-b-${suffix}`
const vethA = `krsa${suffix}`
const vethB = `krsb${suffix}`
const addrA = '198.19.253.1'
const addrB = '198.19.253.2'

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, {stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8'})
const inNs = (ns: string, cmd: string, args: string[]) => sh('ip', ['netns', 'exec', ns, cmd, ...args])

function whyCannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw sockets)'
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'ip netns does not work here (iproute2 missing or no netns support)'
  return undefined
}

function setUp(): void {
  for (const ns of [nsA, nsB]) {
    sh('ip', ['netns', 'add', ns])
    // No duplicate address detection: link-local addresses are usable the moment links are up.
    inNs(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'])
    inNs(ns, 'ip', ['link', 'set', 'lo', 'up'])
  }
  sh('ip', ['link', 'add', vethA, 'netns', nsA, 'type', 'veth', 'peer', 'name', vethB, 'netns', nsB])
  inNs(nsA, 'ip', ['addr', 'add', `${addrA}/24`, 'dev', vethA])
  inNs(nsB, 'ip', ['addr', 'add', `${addrB}/24`, 'dev', vethB])
  inNs(nsA, 'ip', ['link', 'set', vethA, 'up'])
  inNs(nsB, 'ip', ['link', 'set', vethB, 'up'])
}

function tearDown(): void {
  // Deleting a namespace deletes the veth end inside it, and with it the pair.
  for (const ns of [nsA, nsB]) spawnSync('ip', ['netns', 'del', ns], {stdio: 'ignore'})
}

function linkLocal(ns: string, dev: string): string {
  const out = inNs(ns, 'ip', ['-6', '-o', 'addr', 'show', 'dev', dev, 'scope', 'link'])
  const m = /inet6 (fe80::[0-9a-f:]+)\//.exec(out)
  assert.ok(m, `no link-local address on ${dev} in ${ns}: ${out}`)
  return m[1]!
}

interface Received {
  src: string
  dst: string
  ttl: number
  ifindex: number
  expectIfindex: number
  payload: string
}

const children = new Set<ChildProcess>()

/** Starts a listener in ns; resolves once its socket is open (and joined). */
async function listen(ns: string, args: string[]): Promise<{packets: Promise<Received[]>}> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', peerScript, 'listen', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const lines = createInterface({input: child.stdout!})
  const received: Received[] = []
  let onReady: () => void
  const ready = new Promise<void>((resolve) => (onReady = resolve))
  lines.on('line', (line) => {
    if (line === 'ready') onReady()
    else received.push(JSON.parse(line) as Received)
  })
  const packets = new Promise<Received[]>((resolve, reject) => {
    child.on('exit', (code) => {
      children.delete(child)
      if (code === 0) resolve(received)
      else reject(new Error(`listener in ${ns} exited ${code} after ${received.length} packet(s): ${stderr.trim()}`))
    })
  })
  await Promise.race([ready, packets.then(() => Promise.reject(new Error(`listener in ${ns} ended before it was ready: ${stderr}`)))])
  return {packets}
}

function peer(ns: string, args: string[]): string {
  return inNs(ns, process.execPath, ['--import', 'tsx', peerScript, ...args])
}

test('raw VRRP sockets and the packet socket between two network namespaces', {timeout: 120_000}, async (t) => {
  const why = whyCannotRun()
  if (why) {
    t.skip(why)
    return
  }
  // npm test builds first (npm run build); running this file alone needs the addon built too.
  assert.ok(existsSync(devAddonPath()), `${devAddonPath()} missing: run node scripts/build-kaopsd.mjs --addon-only`)
  tearDown()
  try {
    setUp()

    await t.test('IPv4 multicast to 224.0.0.18, A to B, TTL 255', async () => {
      const payload = '2133640100010000c6130a0a' // shaped like a VRRPv2 advert; bytes only here
      const {packets} = await listen(nsB, ['4', vethB, '224.0.0.18', '1'])
      assert.match(peer(nsA, ['send', '4', vethA, '224.0.0.18', addrA, payload]), /^sent 12\b/)
      const [p] = await packets
      assert.ok(p)
      assert.deepEqual({src: p.src, dst: p.dst, ttl: p.ttl, payload: p.payload}, {src: addrA, dst: '224.0.0.18', ttl: 255, payload})
      assert.equal(p.ifindex, p.expectIfindex)
    })

    await t.test('IPv4 unicast, B to A, TTL 255, chosen source', async () => {
      const payload = '3133c8010064aabb'
      const {packets} = await listen(nsA, ['4', vethA, '-', '1'])
      assert.match(peer(nsB, ['send', '4', vethB, addrA, addrB, payload]), /^sent 8\b/)
      const [p] = await packets
      assert.ok(p)
      assert.deepEqual({src: p.src, dst: p.dst, ttl: p.ttl, payload: p.payload}, {src: addrB, dst: addrA, ttl: 255, payload})
      assert.equal(p.ifindex, p.expectIfindex)
    })

    await t.test('IPv6 multicast to ff02::12, A to B, hop limit 255', async () => {
      const payload = '3133640100010000'
      const srcA = linkLocal(nsA, vethA)
      const {packets} = await listen(nsB, ['6', vethB, 'ff02::12', '1'])
      assert.match(peer(nsA, ['send', '6', vethA, 'ff02::12', srcA, payload]), /^sent 8\b/)
      const [p] = await packets
      assert.ok(p)
      assert.deepEqual({src: p.src, dst: p.dst, ttl: p.ttl, payload: p.payload}, {src: srcA, dst: 'ff02::12', ttl: 255, payload})
      assert.equal(p.ifindex, p.expectIfindex)
    })

    await t.test('gratuitous ARP frame through the packet socket, seen on the other end', async (t2) => {
      if (spawnSync('tcpdump', ['--version'], {stdio: 'ignore'}).status !== 0) {
        t2.skip('tcpdump missing (apt-get install tcpdump; scripts/install-deps.sh does it)')
        return
      }
      const vip = '198.19.253.100'
      const dump = spawn('ip', ['netns', 'exec', nsB, 'tcpdump', '-i', vethB, '-c', '1', '-n', '-e', '-l', 'arp'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.add(dump)
      let out = ''
      let err = ''
      dump.stdout!.on('data', (d) => (out += d))
      const listening = new Promise<void>((resolve) => dump.stderr!.on('data', (d) => {
        err += d
        if (/listening on/.test(err)) resolve()
      }))
      const exited = new Promise<number | null>((resolve) => dump.on('exit', (code) => {
        children.delete(dump)
        resolve(code)
      }))
      await Promise.race([listening, exited])
      const sent = peer(nsA, ['garp', vethA, vip])
      const m = /^sent (\d+) mac ([0-9a-f]{12})/.exec(sent)
      assert.ok(m, sent)
      assert.equal(m[1], '42')
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))])
      assert.equal(code, 0, `tcpdump: ${err.trim()}`)
      const mac = m[2]!.match(/../g)!.join(':')
      assert.match(out, new RegExp(`${mac} > ff:ff:ff:ff:ff:ff, ethertype ARP`), out)
      const ip = vip.replaceAll('.', '\\.')
      assert.match(out, new RegExp(`Request who-has ${ip} (\\([0-9a-f:]+\\) )?tell ${ip}`), out)
    })
  } finally {
    for (const c of children) c.kill('SIGKILL')
    tearDown()
    const left = sh('ip', ['netns', 'list'])
    assert.ok(!left.includes(nsA) && !left.includes(nsB), `namespaces left behind: ${left}`)
  }
})
