import {execFileSync} from 'node:child_process'
import {chmodSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import {parseConfigText} from '../../src/daemon/config/index.js'
import {Notifier} from '../../src/daemon/notify/index.js'
import {ScriptRunner} from '../../src/daemon/os/script-runner.js'

const dir = mkdtempSync(join(tmpdir(), 'kaops-notify-'))
chmodSync(dir, 0o755)
after(() => rmSync(dir, {recursive: true, force: true}))

function script(name: string, body: string): string {
  const path = join(dir, name)
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
  return path
}

function collectingLog(): {lines: string[]; error(m: string): void; warning(m: string): void; info(m: string): void; debug(m: string): void} {
  const lines: string[] = []
  return {
    lines,
    error: (m) => lines.push(`error: ${m}`),
    warning: (m) => lines.push(`warning: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
    debug: (m) => lines.push(`debug: ${m}`),
  }
}

async function notifierFor(conf: string): Promise<{notifier: Notifier; log: ReturnType<typeof collectingLog>}> {
  const parsed = await parseConfigText(conf, join(dir, 'keepalived.conf'))
  assert.deepEqual(parsed.diagnostics.filter((d) => d.severity === 'error'), [])
  const log = collectingLog()
  const g = parsed.config.globalDefs
  const runner = new ScriptRunner({enableScriptSecurity: g.enableScriptSecurity, scriptUser: {user: 'root'}, log: (s, m) => log[s](m)})
  return {notifier: new Notifier({config: parsed.config, runner, log, hostname: 'director1'}), log}
}

/** Reads a FIFO without blocking a thread: a non-blocking fd handed to a libuv pipe. */
function readFifo(path: string): {lines: () => string[]; waitFor: (n: number) => Promise<string[]>; close: () => void} {
  const sock = new Socket({fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false})
  let text = ''
  sock.setEncoding('utf8').on('data', (d: string) => (text += d))
  const lines = (): string[] => text.split('\n').filter(Boolean)
  return {
    lines,
    async waitFor(n) {
      for (let i = 0; i < 150 && lines().length < n; i++) await new Promise((r) => setTimeout(r, 20))
      return lines()
    },
    close: () => sock.destroy(),
  }
}

test('notify scripts run per transition in keepalived\'s order, one at a time per instance, without delaying notify()', async () => {
  const out = join(dir, 'scripts.log')
  // Each script logs its start and end around a sleep: any overlap would interleave the lines.
  const s = script('step.sh', `echo "begin $*" >> ${out}; sleep 0.05; echo "end $*" >> ${out}`)
  const {notifier, log} = await notifierFor(`
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 150
  virtual_ipaddress { 198.18.0.100/24 }
  notify_master "${s} master"
  notify_backup "${s} backup"
  notify_fault "${s} fault"
  notify_stop "${s} stop"
  notify "${s} generic"
}
vrrp_sync_group G1 {
  group { VI_1 }
  notify_master "${s} group-master"
}
`)
  notifier.start()
  const t0 = performance.now()
  notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'INIT', to: 'BACKUP', priority: 150, reason: 'startup'})
  notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: 150, reason: 'master down timer expired'})
  notifier.notify({kind: 'GROUP', name: 'G1', from: 'BACKUP', to: 'MASTER', priority: 0, reason: 'all members MASTER'})
  notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'MASTER', to: 'FAULT', priority: 150, reason: 'track script chk failed'})
  notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'FAULT', to: 'STOP', priority: 150, reason: 'shutdown'})
  assert.ok(performance.now() - t0 < 100, 'notify() must not wait for scripts')
  await notifier.idle()
  await notifier.stop()
  const lines = readFileSync(out, 'utf8').trim().split('\n')
  const instance = lines.filter((l) => !l.includes('group-'))
  assert.deepEqual(instance, [
    'begin backup', 'end backup', 'begin generic INSTANCE VI_1 BACKUP 150', 'end generic INSTANCE VI_1 BACKUP 150',
    'begin master', 'end master', 'begin generic INSTANCE VI_1 MASTER 150', 'end generic INSTANCE VI_1 MASTER 150',
    'begin fault', 'end fault', 'begin generic INSTANCE VI_1 FAULT 150', 'end generic INSTANCE VI_1 FAULT 150',
    'begin stop', 'end stop', 'begin generic INSTANCE VI_1 STOP 150', 'end generic INSTANCE VI_1 STOP 150',
  ])
  // The group has its own queue: its script ran while the instance's were still going.
  assert.ok(lines.indexOf('begin group-master') < lines.indexOf('end generic INSTANCE VI_1 STOP 150'))
  assert.deepEqual(log.lines.filter((l) => !l.startsWith('debug')), [])
})

test('FIFO lines reach a reader the test holds, the missing FIFO is created and removed, and the _script reader gets them', async () => {
  const fifo = join(dir, 'notify.fifo')
  execFileSync('mkfifo', [fifo])
  const created = join(dir, 'vrrp.fifo')
  const readerOut = join(dir, 'reader.out')
  const reader = script('reader.sh', `while read -r line; do echo "got $line" >> ${readerOut}; done < "$1"`)
  const {notifier, log} = await notifierFor(`
global_defs {
  notify_fifo ${fifo}
  vrrp_notify_fifo ${created}
  vrrp_notify_fifo_script ${reader}
}
vrrp_sync_group VG_1 {
  group { VI_1 }
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress { 198.18.0.100/24 }
}
`)
  notifier.start()
  assert.ok(statSync(created).isFIFO(), 'vrrp_notify_fifo was created as a FIFO')
  const rx = readFifo(fifo)
  try {
    notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: 100, reason: 'preempt'})
    notifier.notify({kind: 'GROUP', name: 'VG_1', from: 'BACKUP', to: 'MASTER', priority: 0, reason: 'sync'})
    notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'MASTER', to: 'INIT', priority: 100, reason: 'not announced'})
    assert.deepEqual(await rx.waitFor(2), ['INSTANCE "VI_1" MASTER 100', 'GROUP "VG_1" MASTER 0'])
    for (let i = 0; i < 100 && !(existsSync(readerOut) && readFileSync(readerOut, 'utf8').split('\n').length > 2); i++) {
      await new Promise((r) => setTimeout(r, 20))
    }
    assert.equal(readFileSync(readerOut, 'utf8'), 'got INSTANCE "VI_1" MASTER 100\ngot GROUP "VG_1" MASTER 0\n')
  } finally {
    rx.close()
    await notifier.stop()
  }
  assert.equal(existsSync(created), false, 'the FIFO kaopsd created is removed on stop')
  assert.equal(existsSync(fifo), true, 'a FIFO the operator made is left alone')
  assert.deepEqual(log.lines.filter((l) => l.startsWith('error')), [])
})

test('a FIFO nobody reads never blocks: when it fills, lines are dropped and that is logged once', async () => {
  const fifo = join(dir, 'unread.fifo')
  const {notifier, log} = await notifierFor(`
global_defs {
  notify_fifo ${fifo}
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress { 198.18.0.100/24 }
}
`)
  notifier.start()
  const t0 = performance.now()
  // 64 KiB of pipe buffer holds about 2,500 of these lines; write well past it.
  for (let i = 0; i < 5000; i++) notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'BACKUP', to: i % 2 ? 'MASTER' : 'BACKUP', priority: 100, reason: 'flap'})
  assert.ok(performance.now() - t0 < 2000)
  const drops = log.lines.filter((l) => l.includes('line dropped'))
  assert.equal(drops.length, 1, log.lines.join('\n'))
  assert.match(drops[0]!, /nobody is reading it and it is full/)
  await notifier.stop()
})

test('a path that is not a FIFO is refused with a clear error', async () => {
  const file = join(dir, 'plain-file')
  writeFileSync(file, '')
  const {notifier, log} = await notifierFor(`
global_defs {
  notify_fifo ${file}
}
`)
  notifier.start()
  await notifier.stop()
  assert.ok(log.lines.some((l) => l === `error: notify_fifo ${file} exists and is not a FIFO; not writing to it`), log.lines.join('\n'))
  assert.equal(readFileSync(file, 'utf8'), '')
})
