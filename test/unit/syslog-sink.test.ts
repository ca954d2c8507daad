import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import {Logger, localFacility} from '../../src/daemon/core/logger.js'
import {devAddonPath} from '../../src/daemon/os/native.js'
import {syslogSink} from '../../src/daemon/os/syslog-sink.js'

// A stand-in for syslogd: python3 binds a unix datagram socket (Node cannot) and prints each
// datagram it receives as one JSON string per line.
const receiverScript = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("READY", flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`

const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0
const hasAddon = existsSync(devAddonPath())
const dir = mkdtempSync(join(tmpdir(), 'kaops-syslog-'))
after(() => rmSync(dir, {recursive: true, force: true}))

interface Receiver {
  child: ChildProcess
  next(): Promise<string>
  stop(): Promise<void>
}

async function startReceiver(path: string): Promise<Receiver> {
  rmSync(path, {force: true})
  const child = spawn('python3', ['-c', receiverScript, path], {stdio: ['ignore', 'pipe', 'inherit']})
  const lines = createInterface({input: child.stdout!})[Symbol.asyncIterator]()
  const first = await lines.next()
  assert.equal(first.value, 'READY')
  return {
    child,
    async next() {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no datagram within 3 s')), 3000).unref())
      const r = await Promise.race([lines.next(), timeout])
      return JSON.parse(r.value as string) as string
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGKILL')
        await gone
      }
      rmSync(path, {force: true})
    },
  }
}

test('log lines reach a unix datagram socket as RFC 3164 frames with the -S facility', async (t) => {
  if (!hasPython) return t.skip('python3 is needed to bind a unix datagram socket')
  if (!hasAddon) return t.skip('the addon is not built (node scripts/build-kaopsd.mjs --addon-only)')
  const path = join(dir, 'log')
  const rx = await startReceiver(path)
  t.after(() => rx.stop())
  const drops: string[] = []
  const log = new Logger({tag: 'kaopsd_vrrp', facility: localFacility(0), detail: false, pid: 4242, sinks: [syslogSink({path, onDrop: (m) => drops.push(m)})]})
  log.notice('(VI_1) Entering MASTER STATE')
  log.debug('not shown without -D')
  log.error('(VI_1) something broke')
  const first = await rx.next()
  // local0 = 16; notice = 5 -> 133; error = 3 -> 131.
  assert.match(first, /^<133>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d kaopsd_vrrp\[4242\]: \(VI_1\) Entering MASTER STATE$/)
  assert.match(await rx.next(), /^<131>.* kaopsd_vrrp\[4242\]: \(VI_1\) something broke$/)
  assert.deepEqual(drops, [])
})

test('a syslog restart is survived: the sink reconnects to the new socket', async (t) => {
  if (!hasPython) return t.skip('python3 is needed to bind a unix datagram socket')
  if (!hasAddon) return t.skip('the addon is not built (node scripts/build-kaopsd.mjs --addon-only)')
  const path = join(dir, 'restart')
  const drops: string[] = []
  const log = new Logger({tag: 'kaopsd', facility: localFacility(3), detail: true, sinks: [syslogSink({path, onDrop: (m) => drops.push(m)})]})
  let rx = await startReceiver(path)
  log.info('before')
  assert.match(await rx.next(), /^<158>.*: before$/)
  await rx.stop()
  // Down: lines are dropped, and that is said once, not per line.
  log.info('lost 1')
  log.info('lost 2')
  assert.equal(drops.length, 1)
  assert.match(drops[0]!, /restart/)
  rx = await startReceiver(path)
  t.after(() => rx.stop())
  log.info('after')
  assert.match(await rx.next(), /^<158>.*: after$/)
})

test('a missing socket never throws out of the logger', (t) => {
  if (!hasAddon) return t.skip('the addon is not built (node scripts/build-kaopsd.mjs --addon-only)')
  const drops: string[] = []
  const sink = syslogSink({path: join(dir, 'nobody-here'), onDrop: (m) => drops.push(m)})
  sink.write('info', 'line', '<134>frame')
  sink.write('info', 'line', '<134>frame')
  assert.equal(drops.length, 1)
  assert.match(drops[0]!, /ENOENT/)
})
