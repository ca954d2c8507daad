// One end of test/lab/raw-socket.test.ts, run inside a network namespace with `ip netns exec`:
//   listen FAMILY IFNAME GROUP|- COUNT   print "ready", then one JSON line per packet received
//   send   FAMILY IFNAME DST SRC|- HEX   send one payload from SRC (or the kernel's choice)
//   garp   IFNAME VIP                    send one gratuitous ARP frame through the packet socket
import {RawSocket} from '../../../src/daemon/os/raw-socket.js'
import {linkAddress, PacketSocket} from '../../../src/daemon/os/packet-socket.js'
import {gratuitousArp} from '../../../src/daemon/net/arp.js'

const [mode, ...args] = process.argv.slice(2)
const family = (a: string | undefined): 4 | 6 => (a === '6' ? 6 : 4)

if (mode === 'listen') {
  const [fam, ifname, group, count] = args as [string, string, string, string]
  const {ifindex} = linkAddress(ifname)
  const sock = RawSocket.open({family: family(fam), device: ifname})
  if (group !== '-') sock.join(group, ifindex)
  let left = Number(count)
  sock.on('packet', (p) => {
    process.stdout.write(`${JSON.stringify({...p, payload: p.payload.toString('hex'), expectIfindex: ifindex})}\n`)
    if (--left <= 0) sock.close()
  })
  // Nothing may keep a failed test waiting: give up after 15 s.
  setTimeout(() => {
    sock.close()
    process.exitCode = 2
  }, 15_000).unref()
  process.stdout.write('ready\n')
} else if (mode === 'send') {
  const [fam, ifname, dst, src, hex] = args as [string, string, string, string, string]
  const {ifindex} = linkAddress(ifname)
  const sock = RawSocket.open({family: family(fam)})
  const sent = sock.send(Buffer.from(hex, 'hex'), {dst, ifindex, ...(src === '-' ? {} : {src})})
  sock.close()
  process.stdout.write(`sent ${sent}\n`)
} else if (mode === 'garp') {
  const [ifname, vip] = args as [string, string]
  const link = linkAddress(ifname)
  const sock = PacketSocket.open()
  const sent = sock.send(link.ifindex, gratuitousArp(link.mac, vip))
  sock.close()
  process.stdout.write(`sent ${sent} mac ${link.mac.toString('hex')}\n`)
} else {
  process.stderr.write(`raw-peer: unknown mode ${mode}\n`)
  process.exitCode = 2
}
