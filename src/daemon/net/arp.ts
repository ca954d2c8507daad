import {BROADCAST_MAC, ETH_P_ARP, ethernetFrame} from './ethernet.js'
import {parseIPv4} from './ip.js'

/**
 * A gratuitous ARP as a new master sends it (RFC 5798 section 6.4.2 / RFC 5227): an ARP request
 * for its own address, sender and target protocol address both the VIP, broadcast, so every
 * switch and neighbour learns the VIP's new MAC at once.
 */
export function gratuitousArp(senderMac: Buffer, vip: string): Buffer {
  const ip = parseIPv4(vip)
  const arp = Buffer.alloc(28)
  arp.writeUInt16BE(1, 0) // hardware type: Ethernet
  arp.writeUInt16BE(0x0800, 2) // protocol type: IPv4
  arp.writeUInt8(6, 4)
  arp.writeUInt8(4, 5)
  arp.writeUInt16BE(1, 6) // request
  senderMac.copy(arp, 8)
  ip.copy(arp, 14)
  BROADCAST_MAC.copy(arp, 18) // target hardware address: keepalived and Linux use ff.. or 00..
  ip.copy(arp, 24)
  return ethernetFrame(BROADCAST_MAC, senderMac, ETH_P_ARP, arp)
}
