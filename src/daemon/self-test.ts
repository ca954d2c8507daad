import {linkAddress} from './os/packet-socket.js'
import {formatMac} from './net/ethernet.js'

/**
 * `kaopsd self-test [INTERFACE]`: proves the embedded native addon loads on this host and can
 * talk to the kernel, without opening any socket that sends. Used by the build's own test.
 */
export async function selfTest(iface: string, io: {out: (t: string) => void; err: (t: string) => void}): Promise<number> {
  try {
    const link = linkAddress(iface)
    io.out(`native addon ok: ${iface} ifindex ${link.ifindex} mac ${formatMac(link.mac)}\n`)
    return 0
  } catch (err) {
    io.err(`kaopsd self-test: ${(err as Error).message}\n`)
    return 1
  }
}
