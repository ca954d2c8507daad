import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, writeFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gratuitousArp} from '../../src/daemon/net/arp.js'
import {unsolicitedNeighbourAdvert} from '../../src/daemon/net/ndisc.js'
import {virtualRouterMac, formatMac} from '../../src/daemon/net/ethernet.js'
import {internetChecksum} from '../../src/daemon/net/ip.js'

const mac = Buffer.from([0x02, 0x00, 0xc6, 0x12, 0x00, 0x0b])

/** Writes frames as a pcap file so tcpdump, an independent decoder, can judge them. */
function decodeWithTcpdump(frames: Buffer[]): string | undefined {
  try {
    execFileSync('tcpdump', ['--version'], {stdio: 'ignore'})
  } catch {
    return undefined
  }
  const dir = mkdtempSync(join(tmpdir(), 'kaops-frames-'))
  try {
    const header = Buffer.alloc(24)
    header.writeUInt32LE(0xa1b2c3d4, 0)
    header.writeUInt16LE(2, 4)
    header.writeUInt16LE(4, 6)
    header.writeUInt32LE(65535, 16)
    header.writeUInt32LE(1, 20) // LINKTYPE_ETHERNET
    const records = frames.map((f) => {
      const rec = Buffer.alloc(16)
      rec.writeUInt32LE(f.length, 8)
      rec.writeUInt32LE(f.length, 12)
      return Buffer.concat([rec, f])
    })
    const file = join(dir, 'frames.pcap')
    writeFileSync(file, Buffer.concat([header, ...records]))
    return execFileSync('tcpdump', ['-nn', '-e', '-vv', '-r', file], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

test('gratuitous ARP announces the VIP from the sender MAC to broadcast', (t) => {
  const frame = gratuitousArp(mac, '198.18.0.100')
  assert.equal(frame.length, 42)
  assert.deepEqual(frame.subarray(0, 6), Buffer.alloc(6, 0xff))
  assert.deepEqual(frame.subarray(6, 12), mac)
  assert.equal(frame.readUInt16BE(12), 0x0806)
  assert.deepEqual(frame.subarray(28, 32), Buffer.from([198, 18, 0, 100]), 'sender protocol address')
  assert.deepEqual(frame.subarray(38, 42), Buffer.from([198, 18, 0, 100]), 'target protocol address')
  const decoded = decodeWithTcpdump([frame])
  if (decoded === undefined) return t.skip('tcpdump is not installed: decoded the fields by hand only')
  assert.match(decoded, /Request who-has 198\.18\.0\.100 .*tell 198\.18\.0\.100/)
})

test('unsolicited neighbour advert has a valid ICMPv6 checksum and the override flag', (t) => {
  const frame = unsolicitedNeighbourAdvert(mac, 'fe80::c6ff:fe12:b', '2001:2::100')
  assert.equal(frame.readUInt16BE(12), 0x86dd)
  assert.equal(frame[14 + 7], 255, 'hop limit 255')
  const ip6 = frame.subarray(14)
  const icmp = ip6.subarray(40)
  const pseudo = Buffer.alloc(40)
  ip6.subarray(8, 40).copy(pseudo, 0)
  pseudo.writeUInt32BE(icmp.length, 32)
  pseudo.writeUInt8(58, 39)
  assert.equal(internetChecksum(pseudo, icmp), 0, 'checksum over pseudo-header verifies to zero')
  const decoded = decodeWithTcpdump([frame])
  if (decoded === undefined) return t.skip('tcpdump is not installed: verified the checksum by hand only')
  assert.match(decoded, /neighbor advertisement, length 32, tgt is 2001:2::100, Flags \[router, override\]/)
  assert.doesNotMatch(decoded, /bad/i)
})

test('virtual router MAC follows RFC 5798', () => {
  assert.equal(formatMac(virtualRouterMac(51, 4)), '00:00:5e:00:01:33')
  assert.equal(formatMac(virtualRouterMac(7, 6)), '00:00:5e:00:02:07')
})
