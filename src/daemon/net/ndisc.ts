import {ETH_P_IPV6, ethernetFrame} from './ethernet.js'
import {internetChecksum, parseIPv6} from './ip.js'

const ALL_NODES = 'ff02::1'
const ALL_NODES_MAC = Buffer.from([0x33, 0x33, 0x00, 0x00, 0x00, 0x01])
const ICMPV6 = 58

/**
 * An unsolicited neighbour advertisement (RFC 4861 section 7.2.6) for an IPv6 VIP: the IPv6
 * counterpart of a gratuitous ARP. Override flag set, so neighbours replace the cached MAC; the
 * router flag set, as a VRRP router is one. Hop limit 255 as neighbour discovery requires.
 */
export function unsolicitedNeighbourAdvert(senderMac: Buffer, source: string, vip: string): Buffer {
  const src = parseIPv6(source)
  const dst = parseIPv6(ALL_NODES)
  const target = parseIPv6(vip)

  const icmp = Buffer.alloc(32)
  icmp.writeUInt8(136, 0) // neighbour advertisement
  icmp.writeUInt8(0, 1)
  icmp.writeUInt32BE(0xa0000000, 4) // R and O flags
  target.copy(icmp, 8)
  icmp.writeUInt8(2, 24) // option: target link-layer address
  icmp.writeUInt8(1, 25) // length in units of 8 bytes
  senderMac.copy(icmp, 26)

  const pseudo = Buffer.alloc(40)
  src.copy(pseudo, 0)
  dst.copy(pseudo, 16)
  pseudo.writeUInt32BE(icmp.length, 32)
  pseudo.writeUInt8(ICMPV6, 39)
  icmp.writeUInt16BE(internetChecksum(pseudo, icmp), 2)

  const ip6 = Buffer.alloc(40)
  ip6.writeUInt32BE(0x60000000, 0)
  ip6.writeUInt16BE(icmp.length, 4)
  ip6.writeUInt8(ICMPV6, 6)
  ip6.writeUInt8(255, 7)
  src.copy(ip6, 8)
  dst.copy(ip6, 24)
  return ethernetFrame(ALL_NODES_MAC, senderMac, ETH_P_IPV6, Buffer.concat([ip6, icmp]))
}
