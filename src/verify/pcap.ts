/**
 * Reads a classic pcap file (what `tcpdump -w` writes) into drill events: VRRP adverts (IP
 * protocol 112) and ARP, gratuitous ones told apart (sender address = target address). Link
 * types: Ethernet (with 802.1Q tags), Linux cooked v1 and v2. Pure: bytes in, events out.
 */
import type {DrillEvent} from '../model/verify.js'

export class PcapError extends Error {}

const LINK_ETHERNET = 1
const LINK_SLL = 113
const LINK_SLL2 = 276
const ETH_IPV4 = 0x0800
const ETH_ARP = 0x0806
const ETH_VLAN = [0x8100, 0x88a8]
const PROTO_VRRP = 112

const ipv4 = (b: Buffer, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`
const mac = (b: Buffer, o: number) => [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':')

/** The network-layer payload and its ethertype, or undefined for frames we do not read. */
function network(link: number, frame: Buffer): {type: number; at: number} | undefined {
  if (link === LINK_ETHERNET) {
    if (frame.length < 14) return undefined
    let at = 12
    let type = frame.readUInt16BE(at)
    while (ETH_VLAN.includes(type) && frame.length >= at + 6) {
      at += 4
      type = frame.readUInt16BE(at)
    }
    return {type, at: at + 2}
  }
  if (link === LINK_SLL) return frame.length >= 16 ? {type: frame.readUInt16BE(14), at: 16} : undefined
  if (link === LINK_SLL2) return frame.length >= 20 ? {type: frame.readUInt16BE(0), at: 20} : undefined
  return undefined
}

function decode(t: number, type: number, b: Buffer, at: number): DrillEvent | undefined {
  if (type === ETH_IPV4 && b.length >= at + 20) {
    const ihl = (b[at]! & 0x0f) * 4
    if (b[at + 9] !== PROTO_VRRP || b.length < at + ihl + 4) return undefined
    const v = at + ihl
    if ((b[v]! & 0x0f) !== 1) return undefined
    return {t, kind: 'advert', src: ipv4(b, at + 12), vrid: b[v + 1]!, priority: b[v + 2]!}
  }
  if (type === ETH_ARP && b.length >= at + 28 && b.readUInt16BE(at + 2) === ETH_IPV4 && b[at + 4] === 6 && b[at + 5] === 4) {
    const op = b.readUInt16BE(at + 6)
    const spa = ipv4(b, at + 14)
    const tpa = ipv4(b, at + 24)
    const sha = mac(b, at + 8)
    if (spa === tpa) return {t, kind: 'garp', src: spa, address: spa, mac: sha}
    return {t, kind: 'arp', src: spa, address: tpa, op: op === 2 ? 'reply' : 'request', mac: sha}
  }
  return undefined
}

/** Every VRRP advert and ARP packet in the capture, timestamps in ms since the epoch (fractional). */
export function parsePcap(data: Buffer): DrillEvent[] {
  if (data.length < 24) throw new PcapError(`not a pcap file: ${data.length} bytes, a header needs 24`)
  const magicBE = data.readUInt32BE(0)
  const magicLE = data.readUInt32LE(0)
  let le: boolean
  let nano: boolean
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) [le, nano] = [true, magicLE === 0xa1b23c4d]
  else if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) [le, nano] = [false, magicBE === 0xa1b23c4d]
  else if (magicBE === 0x0a0d0d0a) throw new PcapError('pcapng capture: run tcpdump with -w to a classic pcap (the default) or convert it')
  else throw new PcapError(`not a pcap file: magic 0x${magicBE.toString(16)}`)
  const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o))
  const link = u32(20)
  if (![LINK_ETHERNET, LINK_SLL, LINK_SLL2].includes(link)) throw new PcapError(`pcap link type ${link} not supported (Ethernet, Linux cooked)`)
  const out: DrillEvent[] = []
  let o = 24
  while (o + 16 <= data.length) {
    const sec = u32(o)
    const frac = u32(o + 4)
    const incl = u32(o + 8)
    if (o + 16 + incl > data.length) break // a capture cut short when tcpdump was stopped: keep what is whole
    const frame = data.subarray(o + 16, o + 16 + incl)
    const t = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3)
    const net = network(link, frame)
    if (net) {
      const e = decode(t, net.type, frame, net.at)
      if (e) out.push(e)
    }
    o += 16 + incl
  }
  return out
}

// ---- writing, for tests and for recorded fixtures ----

export interface FrameSpec {
  t: number
  frame: Buffer
}

/** A classic little-endian microsecond pcap of Ethernet frames. */
export function writePcap(frames: FrameSpec[]): Buffer {
  const head = Buffer.alloc(24)
  head.writeUInt32LE(0xa1b2c3d4, 0)
  head.writeUInt16LE(2, 4)
  head.writeUInt16LE(4, 6)
  head.writeUInt32LE(65535, 16)
  head.writeUInt32LE(LINK_ETHERNET, 20)
  const parts: Buffer[] = [head]
  for (const f of frames) {
    const r = Buffer.alloc(16)
    const us = Math.round(f.t * 1000)
    r.writeUInt32LE(Math.floor(us / 1e6), 0)
    r.writeUInt32LE(us % 1e6, 4)
    r.writeUInt32LE(f.frame.length, 8)
    r.writeUInt32LE(f.frame.length, 12)
    parts.push(r, f.frame)
  }
  return Buffer.concat(parts)
}

const ipBytes = (a: string) => Buffer.from(a.split('.').map(Number))
const macBytes = (m: string) => Buffer.from(m.split(':').map((x) => Number.parseInt(x, 16)))

export function vrrpFrame(srcMac: string, src: string, vrid: number, priority: number, vips: string[]): Buffer {
  const vrrp = Buffer.alloc(8 + 4 * vips.length + 8)
  vrrp[0] = 0x21
  vrrp[1] = vrid
  vrrp[2] = priority
  vrrp[3] = vips.length
  vrrp[5] = 1
  vips.forEach((v, i) => ipBytes(v).copy(vrrp, 8 + 4 * i))
  const ip = Buffer.alloc(20)
  ip[0] = 0x45
  ip.writeUInt16BE(20 + vrrp.length, 2)
  ip[8] = 255
  ip[9] = PROTO_VRRP
  ipBytes(src).copy(ip, 12)
  ipBytes('224.0.0.18').copy(ip, 16)
  const eth = Buffer.concat([macBytes(`01:00:5e:00:00:12`), macBytes(srcMac), Buffer.from([0x08, 0x00])])
  return Buffer.concat([eth, ip, vrrp])
}

export function arpFrame(srcMac: string, spa: string, tpa: string, op: 1 | 2 = 1): Buffer {
  const arp = Buffer.alloc(28)
  arp.writeUInt16BE(1, 0)
  arp.writeUInt16BE(ETH_IPV4, 2)
  arp[4] = 6
  arp[5] = 4
  arp.writeUInt16BE(op, 6)
  macBytes(srcMac).copy(arp, 8)
  ipBytes(spa).copy(arp, 14)
  ipBytes(tpa).copy(arp, 24)
  return Buffer.concat([macBytes('ff:ff:ff:ff:ff:ff'), macBytes(srcMac), Buffer.from([0x08, 0x06]), arp])
}
