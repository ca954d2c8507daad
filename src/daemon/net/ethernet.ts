/** Ethernet II framing shared by the ARP and neighbour-advertisement builders. */

export const ETH_P_ARP = 0x0806
export const ETH_P_IPV6 = 0x86dd
export const BROADCAST_MAC = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])

export function ethernetFrame(dst: Buffer, src: Buffer, etherType: number, payload: Buffer): Buffer {
  if (dst.length !== 6 || src.length !== 6) throw new RangeError('MAC addresses are 6 bytes')
  const header = Buffer.alloc(14)
  dst.copy(header, 0)
  src.copy(header, 6)
  header.writeUInt16BE(etherType, 12)
  return Buffer.concat([header, payload])
}

/** 00:00:5e:00:01:VRID, the virtual MAC of RFC 5798 section 7.3 (use_vmac, IPv4). */
export function virtualRouterMac(vrid: number, family: 4 | 6): Buffer {
  return Buffer.from([0x00, 0x00, 0x5e, 0x00, family === 4 ? 0x01 : 0x02, vrid & 0xff])
}

export function formatMac(mac: Buffer): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':')
}
