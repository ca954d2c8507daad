// A client's view of a VIP during a change: requests from a lab client namespace every 20 ms,
// counted, so a test can say "no request failed" about a rollout that moves daemons under it.
// Shared by the apply and import lab tests. Traffic stays inside the lab's own namespaces.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {setTimeout as sleep} from 'node:timers/promises'

export type ProbeKind = 'http' | 'ping'
export interface ProbeCounts {
  sent: number
  received: number
}

/** HTTP GETs on fresh connections (no keep-alive), so every request goes through the VIP's current holder. */
const HTTP_PROBE = `
const http = require('node:http')
let sent = 0, ok = 0, stop = false
const tick = () => {
  if (stop) return
  sent++
  const req = http.get({host: process.argv[1], port: 80, path: '/', agent: false, timeout: 1000}, (res) => {
    res.resume()
    res.on('end', () => { if (res.statusCode === 200) ok++ })
  })
  req.on('timeout', () => req.destroy(new Error('timeout')))
  req.on('error', () => {})
  setTimeout(tick, 20)
}
process.on('SIGTERM', () => { stop = true; setTimeout(() => { console.log(JSON.stringify({sent, received: ok})); process.exit(0) }, 1200) })
tick()
`

/** One GET of http://VIP/ from the client namespace: did it answer 200? */
export async function httpOnce(netns: string, vip: string): Promise<boolean> {
  const c = spawn('ip', ['netns', 'exec', netns, 'curl', '-s', '-o', '/dev/null', '-m', '2', '-w', '%{http_code}', `http://${vip}/`], {stdio: ['ignore', 'pipe', 'ignore']})
  let out = ''
  c.stdout.on('data', (d: Buffer) => (out += d.toString()))
  await new Promise((resolve) => c.on('close', resolve))
  return out === '200'
}

/** Whether the VIP serves HTTP, allowing the checkers a few seconds to bring real servers in. */
export async function vipServesHttp(netns: string, vip: string, tries = 8): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await httpOnce(netns, vip)) return true
    await sleep(1000)
  }
  return false
}

/** Start probing; stop() waits for the last answers and returns the counts. */
export function startVipProbe(netns: string, vip: string, kind: ProbeKind): {stop: () => Promise<ProbeCounts>} {
  const argv = kind === 'http' ? [process.execPath, '-e', HTTP_PROBE, vip] : ['ping', '-n', '-q', '-i', '0.02', '-W', '1', vip]
  const c = spawn('ip', ['netns', 'exec', netns, ...argv], {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  c.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const done = new Promise<void>((resolve) => c.on('close', () => resolve()))
  return {
    stop: async () => {
      // Let answers to the last requests arrive before asking for the count.
      await sleep(300)
      c.kill(kind === 'http' ? 'SIGTERM' : 'SIGINT')
      await done
      if (kind === 'http') return JSON.parse(out) as ProbeCounts
      const m = /(\d+) packets transmitted, (\d+) received/.exec(out)
      assert.ok(m, `ping gave no summary: ${out}`)
      return {sent: Number(m[1]), received: Number(m[2])}
    },
  }
}
