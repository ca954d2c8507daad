import {EventEmitter} from 'node:events'
import {loadNative, type NativeAddon, type NativeHandle} from './native.js'

/**
 * A raw IP socket for one protocol (VRRP by default): bytes in, bytes out. Encoding and
 * validating VRRP is src/daemon/vrrp/'s job; this adapter only moves payloads and reports what
 * the kernel knows about each one (addresses, TTL or hop limit, interface).
 *
 * Events: 'packet' (RawPacket) and 'error' (Error naming the syscall and errno; as with any
 * EventEmitter, an 'error' nobody listens to is thrown).
 */

export const VRRP_PROTOCOL = 112
export const VRRP_GROUP_V4 = '224.0.0.18'
export const VRRP_GROUP_V6 = 'ff02::12'

export interface RawPacket {
  /** Source address of the IP packet. */
  src: string
  /** Destination address (a multicast group or one of ours). */
  dst: string
  /** IPv4 TTL or IPv6 hop limit as received; VRRP requires 255. -1 if the kernel did not say. */
  ttl: number
  /** Interface the packet arrived on. */
  ifindex: number
  /** The IP payload (the VRRP packet), without the IP header. */
  payload: Buffer
}

export interface RawSocketOptions {
  family: 4 | 6
  /** IP protocol number; default 112 (VRRP). */
  protocol?: number
  /** SO_BINDTODEVICE: send and receive on this interface only. */
  device?: string
}

export interface SendOptions {
  /** Destination: the VRRP group or a unicast peer. */
  dst: string
  /** Source address for this packet (IP_PKTINFO / IPV6_PKTINFO); default: the kernel's choice. */
  src?: string
  /** Outgoing interface; required for IPv6 link-local or multicast destinations. */
  ifindex?: number
}

export class RawSocket extends EventEmitter<{packet: [RawPacket]; error: [Error]}> {
  readonly family: 4 | 6
  #handle: NativeHandle | undefined
  readonly #native: NativeAddon

  private constructor(native: NativeAddon, opts: RawSocketOptions) {
    super()
    this.family = opts.family
    this.#native = native
    this.#handle = native.rawOpen(
      opts.family,
      opts.protocol ?? VRRP_PROTOCOL,
      opts.device ?? null,
      (src, dst, ttl, ifindex, payload) => this.emit('packet', {src, dst, ttl, ifindex, payload}),
      (err) => this.emit('error', err),
    )
  }

  /** Opens the socket; TTL/hop limit 255 and multicast loop off are already set. */
  static open(opts: RawSocketOptions, native: NativeAddon = loadNative()): RawSocket {
    return new RawSocket(native, opts)
  }

  get closed(): boolean {
    return this.#handle === undefined
  }

  /** Joins a multicast group (224.0.0.18 / ff02::12) on one interface. */
  join(group: string, ifindex: number): void {
    this.#native.rawMembership(this.#live(), group, ifindex, true)
  }

  leave(group: string, ifindex: number): void {
    this.#native.rawMembership(this.#live(), group, ifindex, false)
  }

  setMulticastInterface(ifindex: number): void {
    this.#native.rawMulticastInterface(this.#live(), ifindex)
  }

  /** Off by default: a router must not hear its own adverts. Tests may turn it on. */
  setMulticastLoop(on: boolean): void {
    this.#native.rawMulticastLoop(this.#live(), on)
  }

  /** Sends one payload now; returns the bytes the kernel took. Throws on failure. */
  send(payload: Buffer, opts: SendOptions): number {
    return this.#native.rawSend(this.#live(), opts.dst, opts.src ?? null, opts.ifindex ?? 0, payload)
  }

  /** Whether this socket keeps the process alive (it does by default, as a daemon wants). */
  ref(): this {
    this.#native.setRef(this.#live(), true)
    return this
  }

  unref(): this {
    this.#native.setRef(this.#live(), false)
    return this
  }

  /** Idempotent; no 'packet' event follows it. */
  close(): void {
    if (this.#handle === undefined) return
    const h = this.#handle
    this.#handle = undefined
    this.#native.close(h)
  }

  #live(): NativeHandle {
    if (this.#handle === undefined) throw new Error(`raw IPv${this.family} socket is closed`)
    return this.#handle
  }
}
