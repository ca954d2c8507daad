import {loadNative, type NativeAddon, type NativeHandle} from './native.js'

/**
 * Sends whole Ethernet frames on an interface (AF_PACKET): the way out for gratuitous ARP and
 * unsolicited neighbour advertisements, which the IP stack cannot send with our chosen source.
 * The frames themselves are built by src/daemon/net/ (arp.ts, ndisc.ts, ethernet.ts).
 */
export class PacketSocket {
  #handle: NativeHandle | undefined
  readonly #native: NativeAddon

  private constructor(native: NativeAddon) {
    this.#native = native
    this.#handle = native.packetOpen()
  }

  static open(native: NativeAddon = loadNative()): PacketSocket {
    return new PacketSocket(native)
  }

  /** Sends one frame (destination MAC, source MAC, EtherType, payload) out of ifindex. */
  send(ifindex: number, frame: Buffer): number {
    if (this.#handle === undefined) throw new Error('packet socket is closed')
    return this.#native.packetSend(this.#handle, ifindex, frame)
  }

  close(): void {
    if (this.#handle === undefined) return
    const h = this.#handle
    this.#handle = undefined
    this.#native.close(h)
  }
}

export interface LinkAddress {
  ifindex: number
  /** 6 bytes; all zero on loopback. */
  mac: Buffer
}

/**
 * Interface index and MAC asked of the kernel (SIOCGIFINDEX, SIOCGIFHWADDR) in this process's
 * network namespace. Unlike /sys/class/net this is right even when kaopsd was moved into a
 * namespace with nsenter, which does not remount sysfs.
 */
export function linkAddress(name: string, native: NativeAddon = loadNative()): LinkAddress {
  return native.interfaceInfo(name)
}
