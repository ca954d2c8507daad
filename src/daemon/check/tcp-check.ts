import net from 'node:net'
import {abortReason, deadline, endpoint, settle} from './outcome.js'
import type {Checker, ConnectOptions, TcpCheckOptions} from './types.js'

/**
 * Opens a TCP connection (optionally from bindto[:bind_port]) and resolves with the connected
 * socket, or rejects with a one-line reason. Shared by TCP_CHECK and SMTP_CHECK.
 */
export function connectTcp(host: string, port: number, o: ConnectOptions, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error(abortReason(signal, o.connectTimeoutMs)))
      return
    }
    const socket = net.connect({host, port, localAddress: o.bindTo, localPort: o.bindPort})
    const onAbort = (): void => {
      socket.destroy()
      reject(new Error(`connect to ${host}:${port} ${abortReason(signal, o.connectTimeoutMs)}`))
    }
    signal.addEventListener('abort', onAbort, {once: true})
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort)
      resolve(socket)
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      reject(new Error(`connect to ${host}:${port}: ${err.code ?? err.message}`))
    })
  })
}

/** TCP_CHECK: up when the three-way handshake completes within connect_timeout. */
export const tcpCheck: Checker<TcpCheckOptions> = (target, o, signal) =>
  settle(async () => {
    const {host, port} = endpoint(target, o)
    const socket = await connectTcp(host, port, o, deadline(o.connectTimeoutMs, signal))
    socket.destroy()
    return {ok: true, detail: `connected to ${host}:${port}`}
  })
