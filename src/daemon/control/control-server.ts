import {createServer, type Server} from 'node:net'
import {chmod, mkdir, rm} from 'node:fs/promises'
import {dirname} from 'node:path'

/**
 * The control socket: a unix stream socket, mode 0600 in a 0700 directory, so only root (or
 * whoever runs kaopsd) can ask. One JSON request per line, one JSON answer per line:
 *   {"command":"status"}  -> {"ok":true,"result":{...KaopsdStatus}}
 *   {"command":"reload"}  -> {"ok":true,"result":{kept,changed,added,removed}}
 *   {"command":"takeover","instances":["VI_1"],"leaseSeconds":60,"reason":"..."}
 *                         -> {"ok":true,"result":{...TakeoverAnswer}}
 *   {"command":"takeover-end","instances":["VI_1"]} -> {"ok":true,"result":{...TakeoverAnswer}}
 * Anything else gets {"ok":false,"error":"..."}; a bad client never affects the daemon.
 */
/** One request: the command and its arguments, as sent (the handler validates them). */
export interface ControlRequest {
  command: string
  [argument: string]: unknown
}

export type ControlHandler = (request: ControlRequest) => Promise<unknown>

const MAX_REQUEST = 64 * 1024

export async function startControlServer(path: string, handle: ControlHandler): Promise<Server> {
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  await rm(path, {force: true})
  const server = createServer((conn) => {
    let buf = ''
    conn.setEncoding('utf8')
    conn.on('error', () => conn.destroy())
    conn.on('data', (chunk: string) => {
      buf += chunk
      if (buf.length > MAX_REQUEST) {
        conn.end(JSON.stringify({ok: false, error: 'request too large'}) + '\n')
        return
      }
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        void answer(line).then((reply) => conn.write(JSON.stringify(reply) + '\n'))
      }
    })
  })
  async function answer(line: string): Promise<unknown> {
    let request: unknown
    try {
      request = JSON.parse(line)
    } catch {
      return {ok: false, error: 'not JSON'}
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) return {ok: false, error: 'a request is a JSON object'}
    if (typeof (request as {command?: unknown}).command !== 'string') return {ok: false, error: 'missing "command"'}
    try {
      return {ok: true, result: await handle(request as ControlRequest)}
    } catch (err) {
      return {ok: false, error: err instanceof Error ? err.message : String(err)}
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => resolve())
  })
  await chmod(path, 0o600)
  return server
}
