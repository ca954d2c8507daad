import dgram from 'node:dgram'
import {randomInt} from 'node:crypto'
import {isIPv6} from 'node:net'
import {decodeHeader, encodeQuery, recordType} from './dns-codec.js'
import {abortReason, deadline, endpoint, settle} from './outcome.js'
import type {Checker, DnsCheckOptions} from './types.js'

/**
 * DNS_CHECK: one UDP query of `type` for `name`; up when a reply with our id says NOERROR and
 * carries at least one answer. Replies with another id are ignored (they may be late answers
 * to an earlier check), not counted as failures.
 */
export const dnsCheck: Checker<DnsCheckOptions> = (target, o, signal) =>
  settle(async () => {
    const {host, port} = endpoint(target, o)
    const id = randomInt(0, 0x10000)
    const query = encodeQuery(id, o.name, recordType(o.queryType))
    const sig = deadline(o.connectTimeoutMs, signal)
    const socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4')
    try {
      const reply = await new Promise<Buffer>((resolve, reject) => {
        sig.addEventListener('abort', () => reject(new Error(abortReason(sig, o.connectTimeoutMs))), {once: true})
        socket.once('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code ?? err.message)))
        socket.on('message', (msg) => {
          try {
            if (decodeHeader(msg).id === id) resolve(msg)
          } catch {
            // A runt datagram is not our answer; keep waiting.
          }
        })
        socket.bind({address: o.bindTo, port: o.bindPort ?? 0}, () => {
          socket.connect(port, host, () => socket.send(query))
        })
      })
      const h = decodeHeader(reply)
      const what = `dns ${host}:${port} ${o.queryType} ${o.name}`
      if (!h.isResponse) return {ok: false, detail: `${what}: reply is not a response`}
      if (h.rcode !== 0) return {ok: false, detail: `${what}: rcode ${h.rcode}`}
      if (h.answers === 0) return {ok: false, detail: `${what}: no answer`}
      return {ok: true, detail: `${what}: ${h.answers} answer(s)`}
    } catch (err) {
      return {ok: false, detail: `dns ${host}:${port}: ${(err as Error).message}`}
    } finally {
      socket.close()
    }
  })
