import {RawSocket, VRRP_GROUP_V4, VRRP_GROUP_V6, type RawPacket} from '../os/raw-socket.js'
import {PacketSocket, linkAddress} from '../os/packet-socket.js'
import {gratuitousArp} from '../net/arp.js'
import {unsolicitedNeighbourAdvert} from '../net/ndisc.js'
import {decodeAdvert} from '../vrrp/index.js'
import type {RouterEvent} from '../vrrp/index.js'
import type {Logger} from './logger.js'

/** Where a received packet goes: one instance, by interface, family and VRID. */
export interface AdvertSink {
  interfaceName: string
  family: 4 | 6
  vrid: number
  deliver(event: RouterEvent): void
}

interface Link {
  socket: RawSocket
  ifindex: number
  mac: Buffer
  sinks: Set<AdvertSink>
}

/**
 * One raw VRRP socket per (interface, family), shared by every instance on it, plus one packet
 * socket for gratuitous ARP/NA. Decodes each packet once (shape only) and hands it to the
 * instance with that VRID; the state machine judges meaning and counts errors.
 */
export class VrrpSockets {
  readonly #links = new Map<string, Link>()
  #packet: PacketSocket | undefined
  /** Packets for a VRID no instance here has: counted, as keepalived does, and dropped. */
  unknownVrid = 0

  constructor(private readonly log: Logger) {}

  attach(sink: AdvertSink): void {
    this.#link(sink.interfaceName, sink.family).sinks.add(sink)
  }

  detach(sink: AdvertSink): void {
    const key = `${sink.family}/${sink.interfaceName}`
    const link = this.#links.get(key)
    if (!link) return
    link.sinks.delete(sink)
    if (link.sinks.size === 0) {
      link.socket.close()
      this.#links.delete(key)
    }
  }

  send(interfaceName: string, family: 4 | 6, payload: Buffer, dst: string, src: string): void {
    const link = this.#link(interfaceName, family)
    link.socket.send(payload, {dst, src, ifindex: link.ifindex})
  }

  /**
   * Announces addresses from the interface they live on, which need not be the VRRP interface
   * (a VIP with its own `dev`). Asks the kernel for that interface's MAC each time: cheap, and
   * right after a MAC change or a vmac being recreated.
   */
  sendGratuitous(interfaceName: string, family: 4 | 6, source: string, addresses: string[]): void {
    const {ifindex, mac} = linkAddress(interfaceName)
    this.#packet ??= PacketSocket.open()
    for (const a of addresses) {
      const frame = family === 4 ? gratuitousArp(mac, a) : unsolicitedNeighbourAdvert(mac, source, a)
      this.#packet.send(ifindex, frame)
    }
  }

  close(): void {
    for (const link of this.#links.values()) link.socket.close()
    this.#links.clear()
    this.#packet?.close()
    this.#packet = undefined
  }

  #link(interfaceName: string, family: 4 | 6): Link {
    const key = `${family}/${interfaceName}`
    const existing = this.#links.get(key)
    if (existing) return existing
    const {ifindex, mac} = linkAddress(interfaceName)
    const socket = RawSocket.open({family, device: interfaceName})
    socket.setMulticastInterface(ifindex)
    socket.join(family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6, ifindex)
    const link: Link = {socket, ifindex, mac, sinks: new Set()}
    socket.on('packet', (p) => this.#receive(link, family, p))
    socket.on('error', (err) => this.log.error(`VRRP socket on ${interfaceName}: ${err.message}`))
    this.#links.set(key, link)
    return link
  }

  #receive(link: Link, family: 4 | 6, p: RawPacket): void {
    try {
      // The VRID sits in the second byte whatever else is wrong with the packet, so a broken
      // packet is still counted against the instance it was aimed at.
      if (p.payload.length < 2) return
      const vrid = p.payload[1]!
      const targets = [...link.sinks].filter((s) => s.vrid === vrid)
      if (targets.length === 0) {
        this.unknownVrid++
        return
      }
      const decoded = decodeAdvert(p.payload, {family: family === 4 ? 'ipv4' : 'ipv6', src: p.src, dst: p.dst})
      const event: RouterEvent = decoded.ok
        ? {kind: 'advert', advert: decoded.advert, src: p.src, dst: p.dst, ttl: p.ttl < 0 ? null : p.ttl}
        : {kind: 'malformed', error: decoded.error, src: p.src}
      for (const t of targets) t.deliver(event)
    } catch (err) {
      // Hostile input must never reach the process' uncaught handler.
      this.log.error(`dropping a VRRP packet from ${p.src}: ${String(err)}`)
    }
  }
}
