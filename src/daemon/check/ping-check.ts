import {execFile} from 'node:child_process'
import {isIPv6} from 'node:net'
import {endpoint, settle} from './outcome.js'
import type {Checker, PingCheckOptions} from './types.js'

/**
 * PING_CHECK. An ICMP echo needs a raw (or ICMP datagram) socket, which Node cannot open
 * without a native addon; until native/ provides one, this honest fallback runs the system's
 * `ping -c1 -W<seconds>` (iputils) and reads its exit status. The cost is one process per check.
 */
export function pingArgs(host: string, o: PingCheckOptions): string[] {
  const seconds = Math.max(1, Math.ceil(o.connectTimeoutMs / 1000))
  const args = ['-n', '-c1', `-W${seconds}`]
  if (isIPv6(host)) args.unshift('-6')
  if (o.bindTo) args.push('-I', o.bindTo)
  args.push(host)
  return args
}

export const pingCheck: Checker<PingCheckOptions> = (target, o, signal) =>
  settle(() => {
    const {host} = endpoint(target, o)
    return new Promise((resolve) => {
      execFile('ping', pingArgs(host, o), {timeout: o.connectTimeoutMs + 1000, signal}, (err, stdout) => {
        if (!err) {
          resolve({ok: true, detail: `ping ${host}: ${/time=[\d.]+ ms/.exec(stdout)?.[0] ?? 'echo reply'}`})
          return
        }
        const code = (err as NodeJS.ErrnoException).code
        resolve({ok: false, detail: `ping ${host}: ${typeof code === 'number' ? `no echo reply (exit ${code})` : err.message}`})
      })
    })
  })
