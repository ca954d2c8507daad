import dgram from 'node:dgram'
import {isIPv6} from 'node:net'
import {abortReason, deadline, endpoint, settle} from './outcome.js'
import type {Checker, UdpCheckOptions} from './types.js'

/**
 * UDP_CHECK: send the payload on a connected socket. The kernel reports an ICMP port
 * unreachable as ECONNREFUSED on that socket, which is what "down" means without
 * require_reply; with require_reply, silence until connect_timeout is down too.
 */
export const udpCheck: Checker<UdpCheckOptions> = (target, o, signal) =>
  settle(async () => {
    const {host, port} = endpoint(target, o)
    const what = `udp ${host}:${port}`
    const sig = deadline(o.connectTimeoutMs, signal)
    const socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4')
    try {
      const outcome = await new Promise<{reply?: Buffer; timedOut?: boolean}>((resolve, reject) => {
        sig.addEventListener('abort', () => {
          if (signal?.aborted) reject(new Error(abortReason(sig, o.connectTimeoutMs)))
          else resolve({timedOut: true})
        }, {once: true})
        socket.once('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code ?? err.message)))
        socket.once('message', (reply) => resolve({reply}))
        socket.bind({address: o.bindTo, port: o.bindPort ?? 0}, () => {
          socket.connect(port, host, () => socket.send(o.payload))
        })
      })
      if (outcome.timedOut) {
        return o.requireReply
          ? {ok: false, detail: `${what}: no reply within ${o.connectTimeoutMs} ms`}
          : {ok: true, detail: `${what}: no ICMP error within ${o.connectTimeoutMs} ms`}
      }
      const reply = outcome.reply!
      if (o.expectedReply && !reply.subarray(0, o.expectedReply.length).equals(Buffer.from(o.expectedReply))) {
        return {ok: false, detail: `${what}: reply does not start with the expected bytes`}
      }
      return {ok: true, detail: `${what}: reply of ${reply.length} bytes`}
    } catch (err) {
      return {ok: false, detail: `${what}: ${(err as Error).message}`}
    } finally {
      socket.close()
    }
  })
