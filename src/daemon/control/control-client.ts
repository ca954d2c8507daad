import {createConnection} from 'node:net'
import type {ControlRequest} from './control-server.js'

/** Asks a running kaopsd one question over its control socket: a bare command or a request with arguments. */
export function askControlSocket(path: string, command: string | ControlRequest, timeoutMs = 5000): Promise<unknown> {
  const request: ControlRequest = typeof command === 'string' ? {command} : command
  return new Promise((resolve, reject) => {
    const conn = createConnection(path)
    let buf = ''
    const timer = setTimeout(() => {
      conn.destroy()
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`))
    }, timeoutMs)
    conn.setEncoding('utf8')
    conn.on('connect', () => conn.write(JSON.stringify(request) + '\n'))
    conn.on('data', (chunk: string) => {
      buf += chunk
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      conn.end()
      try {
        const reply = JSON.parse(buf.slice(0, nl)) as {ok: boolean; result?: unknown; error?: string}
        if (reply.ok) resolve(reply.result)
        else reject(new Error(reply.error ?? 'kaopsd refused the request'))
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    })
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'is kaopsd running?' : err.message
      reject(new Error(`cannot reach kaopsd at ${path}: ${why}`))
    })
  })
}
