import ipaddr from 'ipaddr.js'

/** Address parsing for the frame builders, through ipaddr.js rather than by hand. */
export function parseIPv4(text: string): Buffer {
  const addr = ipaddr.parse(text)
  if (addr.kind() !== 'ipv4') throw new RangeError(`not an IPv4 address: ${text}`)
  return Buffer.from(addr.toByteArray())
}

export function parseIPv6(text: string): Buffer {
  const addr = ipaddr.parse(text)
  if (addr.kind() !== 'ipv6') throw new RangeError(`not an IPv6 address: ${text}`)
  return Buffer.from(addr.toByteArray())
}

/** The one's-complement sum of RFC 1071, over any number of buffers. */
export function internetChecksum(...parts: Buffer[]): number {
  let sum = 0
  for (const buf of parts) {
    for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i)
    if (buf.length % 2 === 1) sum += buf[buf.length - 1]! << 8
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}
