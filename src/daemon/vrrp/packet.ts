import ipaddr from 'ipaddr.js'
import { internetChecksum } from '../net/ip.js'

/**
 * The VRRP advertisement codec: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798), IPv4 and IPv6.
 *
 * Contract (the FRR/holo split): decodeAdvert checks only that the bytes are a well-formed VRRP
 * advertisement (length, version, type, address count against length, checksum). Whether the
 * packet is meant for us (VRID, auth, interval, address list, TTL, source) is the state machine's
 * business (router.ts), because each of those failures bumps a different per-instance counter.
 * It never throws: every failure is a typed error whose kind maps to one counter.
 */

export const VRRP_PROTOCOL = 112
export const VRRP_TYPE_ADVERT = 1
export const VRRP_MULTICAST_V4 = '224.0.0.18'
export const VRRP_MULTICAST_V6 = 'ff02::12'
/** RFC 3768 section 5.3.6: the authentication data is always 8 bytes long in v2. */
export const V2_AUTH_LEN = 8
const HEADER_LEN = 8

export type AddressFamily = 'ipv4' | 'ipv6'
export type VrrpVersion = 2 | 3

/** VRRPv2 auth type numbers (RFC 3768 5.3.6; 2 is the historic IP AH). */
export const AUTH_NONE = 0
export const AUTH_PASS = 1
export const AUTH_AH = 2

export interface Advert {
  version: VrrpVersion
  vrid: number
  priority: number
  /**
   * The advertisement interval in centiseconds, whatever the version: v2 carries whole
   * seconds (decoded as seconds * 100), v3 a 12-bit count of centiseconds.
   */
  advertIntervalCs: number
  /** The virtual addresses, as text (IPv6 in RFC 5952 form). */
  addresses: string[]
  /** v2 only (0 in v3): the auth type byte, left unchecked here. */
  authType: number
  /** v2 only (empty in v3): the 8 authentication bytes. */
  authData: Uint8Array
  /** The checksum as it was on the wire (decode) or as computed (encode). */
  checksum: number
}

export type DecodeErrorKind =
  | 'too_short' // fewer bytes than the fixed header
  | 'bad_version' // neither 2 nor 3, or v2 over IPv6
  | 'bad_type' // not an ADVERTISEMENT
  | 'length_mismatch' // the byte count disagrees with the address count
  | 'bad_checksum'
  | 'bad_ip_header' // only from decodeIpv4Packet: not IPv4/112, bad IHL or total length

export interface DecodeError {
  kind: DecodeErrorKind
  message: string
}

export type DecodeResult = { ok: true; advert: Advert } | { ok: false; error: DecodeError }

export interface PacketContext {
  family: AddressFamily
  /** Source and destination of the IP packet: v3 checksums cover a pseudo-header with them. */
  src: string
  dst: string
}

export interface DecodeOptions extends PacketContext {
  /**
   * Verify the checksum (default true). For IPv6 the kernel may already have done it
   * (IPV6_CHECKSUM), as it does for keepalived.
   */
  verifyChecksum?: boolean
}

function fail(kind: DecodeErrorKind, message: string): DecodeResult {
  return { ok: false, error: { kind, message } }
}

function addressLength(family: AddressFamily): number {
  return family === 'ipv4' ? 4 : 16
}

/** Bytes of a VRRP packet (no IP header) with `count` addresses. */
export function advertLength(version: VrrpVersion, family: AddressFamily, count: number): number {
  return HEADER_LEN + count * addressLength(family) + (version === 2 ? V2_AUTH_LEN : 0)
}

function pseudoHeader(ctx: PacketContext, length: number): Buffer {
  if (ctx.family === 'ipv4') {
    const ph = Buffer.alloc(12)
    Buffer.from(ipaddr.IPv4.parse(ctx.src).toByteArray()).copy(ph, 0)
    Buffer.from(ipaddr.IPv4.parse(ctx.dst).toByteArray()).copy(ph, 4)
    ph[9] = VRRP_PROTOCOL
    ph.writeUInt16BE(length, 10)
    return ph
  }
  const ph = Buffer.alloc(40)
  Buffer.from(ipaddr.IPv6.parse(ctx.src).toByteArray()).copy(ph, 0)
  Buffer.from(ipaddr.IPv6.parse(ctx.dst).toByteArray()).copy(ph, 16)
  ph.writeUInt32BE(length, 32)
  ph[39] = VRRP_PROTOCOL
  return ph
}

/** A pseudo-header from addresses that may not parse: null instead of a throw. */
function safePseudoHeader(ctx: PacketContext, length: number): Buffer | null {
  try {
    return pseudoHeader(ctx, length)
  } catch {
    return null
  }
}

/** RFC 3768 sums the VRRP packet alone; RFC 5798 adds the IP pseudo-header. */
function checksumOf(version: VrrpVersion, ctx: PacketContext, packet: Buffer): number | null {
  if (version === 2) return internetChecksum(packet)
  const ph = safePseudoHeader(ctx, packet.length)
  return ph === null ? null : internetChecksum(ph, packet)
}

export function decodeAdvert(bytes: Uint8Array, options: DecodeOptions): DecodeResult {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const { family } = options
  if (buf.length < HEADER_LEN) return fail('too_short', `VRRP packet of ${buf.length} bytes, header needs ${HEADER_LEN}`)
  const version = buf[0]! >> 4
  const type = buf[0]! & 0x0f
  if (version !== 2 && version !== 3) return fail('bad_version', `VRRP version ${version}, expected 2 or 3`)
  if (version === 2 && family === 'ipv6') return fail('bad_version', 'VRRP version 2 over IPv6 (RFC 5798 only)')
  if (type !== VRRP_TYPE_ADVERT) return fail('bad_type', `VRRP packet type ${type}, expected ${VRRP_TYPE_ADVERT} (advertisement)`)
  const count = buf[3]!
  const expected = advertLength(version, family, count)
  if (buf.length !== expected) {
    return fail('length_mismatch', `VRRP packet too ${buf.length > expected ? 'long' : 'short'}: ${buf.length} bytes, ${count} address(es) need ${expected}`)
  }
  if (options.verifyChecksum !== false) {
    const sum = checksumOf(version, options, buf)
    if (sum === null) return fail('bad_checksum', `cannot build the v3 pseudo-header from ${options.src} > ${options.dst}`)
    if (sum !== 0) return fail('bad_checksum', `VRRPv${version} checksum 0x${buf.readUInt16BE(6).toString(16).padStart(4, '0')} does not verify`)
  }
  const alen = addressLength(family)
  const addresses: string[] = []
  for (let i = 0; i < count; i++) {
    const at = HEADER_LEN + i * alen
    addresses.push(ipaddr.fromByteArray([...buf.subarray(at, at + alen)]).toString())
  }
  const advertIntervalCs = version === 2 ? buf[5]! * 100 : buf.readUInt16BE(4) & 0x0fff
  return {
    ok: true,
    advert: {
      version,
      vrid: buf[1]!,
      priority: buf[2]!,
      advertIntervalCs,
      addresses,
      authType: version === 2 ? buf[4]! : 0,
      authData: version === 2 ? Uint8Array.from(buf.subarray(expected - V2_AUTH_LEN, expected)) : new Uint8Array(0),
      checksum: buf.readUInt16BE(6),
    },
  }
}

export interface AdvertToSend {
  version: VrrpVersion
  vrid: number
  priority: number
  /** Centiseconds; v2 sends whole seconds (rounded down, at least 1). */
  advertIntervalCs: number
  addresses: string[]
  /** v2 only; defaults to none. */
  authType?: number
  /** v2 PASS: the password; only its first 8 bytes travel, zero padded (RFC 3768 5.3.6.1). */
  authPassword?: string
}

/** The 8 auth bytes for a PASS password, as both the sender and the receiver check them. */
export function passwordBytes(password: string): Uint8Array {
  const out = new Uint8Array(V2_AUTH_LEN)
  out.set(Buffer.from(password, 'utf8').subarray(0, V2_AUTH_LEN))
  return out
}

/**
 * Builds the VRRP packet (no IP header). Unlike decoding, bad arguments here are programming
 * errors of our own (the config layer validated them), so this throws RangeError.
 */
export function encodeAdvert(advert: AdvertToSend, ctx: PacketContext): Uint8Array {
  const { version } = advert
  const { family } = ctx
  if (version === 2 && family === 'ipv6') throw new RangeError('VRRPv2 is IPv4 only')
  if (advert.addresses.length > 255) throw new RangeError('at most 255 addresses fit in one advert')
  const len = advertLength(version, family, advert.addresses.length)
  const buf = Buffer.alloc(len)
  buf[0] = (version << 4) | VRRP_TYPE_ADVERT
  buf[1] = advert.vrid & 0xff
  buf[2] = advert.priority & 0xff
  buf[3] = advert.addresses.length
  if (version === 2) {
    buf[4] = advert.authType ?? AUTH_NONE
    buf[5] = Math.min(255, Math.max(1, Math.floor(advert.advertIntervalCs / 100)))
  } else {
    buf.writeUInt16BE(Math.min(0x0fff, Math.max(1, Math.round(advert.advertIntervalCs))), 4)
  }
  const alen = addressLength(family)
  advert.addresses.forEach((text, i) => {
    const addr = ipaddr.parse(text)
    if ((addr.kind() === 'ipv4') !== (family === 'ipv4')) throw new RangeError(`${text} is not an ${family} address`)
    Buffer.from(addr.toByteArray()).copy(buf, HEADER_LEN + i * alen)
  })
  if (version === 2 && advert.authType === AUTH_PASS) {
    Buffer.from(passwordBytes(advert.authPassword ?? '')).copy(buf, len - V2_AUTH_LEN)
  }
  const sum = version === 2 ? internetChecksum(buf) : internetChecksum(pseudoHeader(ctx, len), buf)
  buf.writeUInt16BE(sum, 6)
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

/** What a raw IPv4 socket hands over: the IP header fields the receive checks need. */
export interface Ipv4Envelope {
  src: string
  dst: string
  ttl: number
  payload: Uint8Array
}

export type Ipv4Result = { ok: true; packet: Ipv4Envelope } | { ok: false; error: DecodeError }

/** Splits an IPv4 packet (as read from a raw socket, header included) into header fields and payload. */
export function decodeIpv4Packet(bytes: Uint8Array): Ipv4Result {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const bad = (message: string): Ipv4Result => ({ ok: false, error: { kind: 'bad_ip_header', message } })
  if (buf.length < 20) return bad(`IPv4 packet of ${buf.length} bytes`)
  if (buf[0]! >> 4 !== 4) return bad(`IP version ${buf[0]! >> 4} in an IPv4 packet`)
  const ihl = (buf[0]! & 0x0f) * 4
  if (ihl < 20 || ihl > buf.length) return bad(`IPv4 header length ${ihl} with ${buf.length} bytes`)
  if (buf[9] !== VRRP_PROTOCOL) return bad(`IP protocol ${buf[9]}, expected ${VRRP_PROTOCOL}`)
  const total = buf.readUInt16BE(2)
  if (total !== buf.length) return bad(`IPv4 total length ${total} but ${buf.length} bytes received`)
  return {
    ok: true,
    packet: {
      src: ipaddr.fromByteArray([...buf.subarray(12, 16)]).toString(),
      dst: ipaddr.fromByteArray([...buf.subarray(16, 20)]).toString(),
      ttl: buf[8]!,
      payload: Uint8Array.from(buf.subarray(ihl)),
    },
  }
}

/**
 * Wraps a VRRP packet in the IPv4 header keepalived sends (TOS 0xc0, TTL 255, no fragments),
 * for senders that build the header themselves (IP_HDRINCL) and for tests against captures.
 */
export function encodeIpv4Packet(payload: Uint8Array, src: string, dst: string, id = 0): Uint8Array {
  const hdr = Buffer.alloc(20)
  hdr[0] = 0x45
  hdr[1] = 0xc0
  hdr.writeUInt16BE(20 + payload.length, 2)
  hdr.writeUInt16BE(id & 0xffff, 4)
  hdr[8] = 255
  hdr[9] = VRRP_PROTOCOL
  Buffer.from(ipaddr.IPv4.parse(src).toByteArray()).copy(hdr, 12)
  Buffer.from(ipaddr.IPv4.parse(dst).toByteArray()).copy(hdr, 16)
  hdr.writeUInt16BE(internetChecksum(hdr), 10)
  const out = Buffer.concat([hdr, Buffer.from(payload)])
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}
