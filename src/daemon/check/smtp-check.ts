import type net from 'node:net'
import {abortReason, deadline, endpoint, settle} from './outcome.js'
import {connectTcp} from './tcp-check.js'
import type {Checker, SmtpCheckOptions} from './types.js'

/**
 * SMTP_CHECK: the banner must be 220, HELO must get 250; then QUIT politely. A server that
 * accepts but never speaks fails at connect_timeout, which bounds the whole dialogue.
 */
export const smtpCheck: Checker<SmtpCheckOptions> = (target, o, signal) =>
  settle(async () => {
    const {host, port} = endpoint(target, o)
    const sig = deadline(o.connectTimeoutMs, signal)
    const socket = await connectTcp(host, port, o, sig)
    try {
      const replies = new ReplyReader(socket, sig, o.connectTimeoutMs)
      const banner = await replies.next()
      if (banner.code !== 220) return {ok: false, detail: `smtp ${host}:${port}: banner ${banner.code} ${banner.text}`}
      socket.write(`HELO ${o.heloName}\r\n`)
      const helo = await replies.next()
      if (helo.code !== 250) return {ok: false, detail: `smtp ${host}:${port}: HELO answered ${helo.code} ${helo.text}`}
      socket.write('QUIT\r\n')
      return {ok: true, detail: `smtp ${host}:${port}: 220 banner, HELO 250`}
    } finally {
      socket.end()
      socket.destroy()
    }
  })

/** Reads SMTP replies, joining multi-line ones ("250-a", "250 b"). */
class ReplyReader {
  private buffer = ''
  private waiting: (() => void) | undefined
  private failure: Error | undefined

  constructor(socket: net.Socket, signal: AbortSignal, timeoutMs: number) {
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      this.wake()
    })
    socket.once('close', () => this.fail(new Error('connection closed by the server')))
    socket.once('error', (err) => this.fail(err))
    signal.addEventListener('abort', () => this.fail(new Error(abortReason(signal, timeoutMs))), {once: true})
  }

  async next(): Promise<{code: number; text: string}> {
    for (;;) {
      const reply = this.take()
      if (reply) return reply
      if (this.failure) throw this.failure
      await new Promise<void>((resolve) => { this.waiting = resolve })
    }
  }

  private take(): {code: number; text: string} | undefined {
    const lines = this.buffer.split('\r\n')
    for (let i = 0; i < lines.length - 1; i++) {
      const line = lines[i]!
      if (/^\d{3}(?: |$)/.test(line)) {
        this.buffer = lines.slice(i + 1).join('\r\n')
        return {code: Number(line.slice(0, 3)), text: line.slice(4)}
      }
      if (!/^\d{3}-/.test(line)) throw new Error(`not an SMTP reply: ${JSON.stringify(line.slice(0, 80))}`)
    }
    return undefined
  }

  private fail(err: Error): void {
    this.failure ??= err
    this.wake()
  }

  private wake(): void {
    const w = this.waiting
    this.waiting = undefined
    w?.()
  }
}
