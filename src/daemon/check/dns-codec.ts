/**
 * The little of DNS (RFC 1035) that DNS_CHECK needs: encode one question, and read a reply's
 * header. The codec checks shape only; whether the reply means "up" is the checker's call.
 */

const recordTypes: Record<string, number> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DS: 43, RRSIG: 46, DNSKEY: 48, ANY: 255,
}

export function recordType(name: string): number {
  const n = recordTypes[name.toUpperCase()] ?? (/^\d+$/.test(name) ? Number(name) : NaN)
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`DNS_CHECK type "${name}" is unknown; use one of ${Object.keys(recordTypes).join(' ')} or a number`)
  }
  return n
}

/** A standard query with recursion desired, class IN. */
export function encodeQuery(id: number, name: string, type: number): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l.length > 0)
  const parts: Buffer[] = []
  const header = Buffer.alloc(12)
  header.writeUInt16BE(id & 0xffff, 0)
  header.writeUInt16BE(0x0100, 2) // RD
  header.writeUInt16BE(1, 4) // QDCOUNT
  parts.push(header)
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii')
    if (bytes.length > 63) throw new Error(`DNS label "${label}" is longer than 63 bytes`)
    parts.push(Buffer.from([bytes.length]), bytes)
  }
  const tail = Buffer.alloc(5)
  tail.writeUInt16BE(type, 1)
  tail.writeUInt16BE(1, 3) // IN
  parts.push(tail)
  return Buffer.concat(parts)
}

export interface DnsReplyHeader {
  id: number
  isResponse: boolean
  rcode: number
  questions: number
  answers: number
}

export function decodeHeader(msg: Uint8Array): DnsReplyHeader {
  if (msg.length < 12) throw new Error(`DNS reply of ${msg.length} bytes is shorter than a header`)
  const b = Buffer.from(msg.buffer, msg.byteOffset, msg.length)
  const flags = b.readUInt16BE(2)
  return {id: b.readUInt16BE(0), isResponse: (flags & 0x8000) !== 0, rcode: flags & 0x000f, questions: b.readUInt16BE(4), answers: b.readUInt16BE(6)}
}
