import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import {parseConfigText} from '../../src/daemon/config/index.js'
import {Notifier} from '../../src/daemon/notify/index.js'
import {ScriptRunner} from '../../src/daemon/os/script-runner.js'

const dir = mkdtempSync(join(tmpdir(), 'kaops-smtp-'))
after(() => rmSync(dir, {recursive: true, force: true}))

interface Mail {
  helo: string
  from: string
  to: string[]
  data: string
}

/**
 * A small but real SMTP server on loopback (RFC 5321 command/reply dialogue, dot-stuffed DATA),
 * enough for any client that speaks plain SMTP, nodemailer included.
 */
async function smtpServer(): Promise<{port: number; mails: Mail[]; close: () => Promise<void>}> {
  const mails: Mail[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((sock) => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    let buf = ''
    let inData = false
    let cur: Mail = {helo: '', from: '', to: [], data: ''}
    const reply = (line: string): void => void sock.write(`${line}\r\n`)
    reply('220 test.local ESMTP ready')
    sock.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n')
          if (end < 0) return
          cur.data = buf.slice(0, end).replace(/^\.\./gm, '.')
          buf = buf.slice(end + 5)
          inData = false
          mails.push(cur)
          cur = {helo: cur.helo, from: '', to: [], data: ''}
          reply('250 2.0.0 queued')
          continue
        }
        const nl = buf.indexOf('\r\n')
        if (nl < 0) return
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 2)
        const verb = line.slice(0, 4).toUpperCase()
        if (verb === 'EHLO' || verb === 'HELO') {
          cur.helo = line.slice(5)
          reply('250 test.local')
        } else if (verb === 'MAIL') {
          cur.from = /<(.*)>/.exec(line)?.[1] ?? ''
          reply('250 2.1.0 ok')
        } else if (verb === 'RCPT') {
          cur.to.push(/<(.*)>/.exec(line)?.[1] ?? '')
          reply('250 2.1.5 ok')
        } else if (verb === 'DATA') {
          inData = true
          reply('354 end with .')
        } else if (verb === 'QUIT') {
          reply('221 bye')
          sock.end()
        } else if (verb === 'RSET' || verb === 'NOOP') {
          reply('250 ok')
        } else {
          reply('502 not implemented')
        }
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    mails,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** Accepts connections and never says a word: the worst kind of mail server. */
async function silentServer(): Promise<{port: number; close: () => Promise<void>}> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

async function notifierFor(port: number, extra = ''): Promise<{notifier: Notifier; lines: string[]}> {
  const conf = `
global_defs {
  router_id lb01
  notification_email {
    ops@example.test
    oncall@example.test
  }
  notification_email_from kaopsd@lb01.example.test
  smtp_server 127.0.0.1 ${port}
  smtp_connect_timeout 1
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 150
  virtual_ipaddress { 198.18.0.100/24 }
  smtp_alert
${extra}
}
`
  const parsed = await parseConfigText(conf, join(dir, 'keepalived.conf'))
  assert.deepEqual(parsed.diagnostics.filter((d) => d.severity === 'error'), [])
  const lines: string[] = []
  const log = {error: (m: string) => lines.push(`error: ${m}`), warning: (m: string) => lines.push(`warning: ${m}`), info: (m: string) => lines.push(`info: ${m}`), debug: () => {}}
  const runner = new ScriptRunner({enableScriptSecurity: false, scriptUser: {user: 'root'}})
  return {notifier: new Notifier({config: parsed.config, runner, log, hostname: 'director1'}), lines}
}

test('a transition mails every notification_email through a real SMTP server, once per state', async () => {
  const smtp = await smtpServer()
  after(() => smtp.close())
  const {notifier, lines} = await notifierFor(smtp.port)
  notifier.start()
  notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: 150, reason: 'higher priority advert from 198.18.0.2 ended: master down timer expired'})
  // The same state again (a sync group re-announcing) is not mailed twice.
  notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'MASTER', to: 'MASTER', priority: 150, reason: 'again'})
  await notifier.idle()
  notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'MASTER', to: 'BACKUP', priority: 150, reason: 'higher priority advert from 198.18.0.3'})
  await notifier.stop()
  assert.equal(smtp.mails.length, 2, lines.join('\n'))
  const [m] = smtp.mails
  assert.equal(m!.from, 'kaopsd@lb01.example.test')
  assert.deepEqual(m!.to, ['ops@example.test', 'oncall@example.test'])
  assert.match(m!.data, /^Subject: \[lb01\] VRRP instance VI_1: MASTER\r?$/m)
  assert.match(m!.data, /master down timer expired/)
  assert.match(smtp.mails[1]!.data, /^Subject: \[lb01\] VRRP instance VI_1: BACKUP\r?$/m)
  assert.match(smtp.mails[1]!.data, /higher priority advert from 198\.18\.0\.3/)
  assert.ok(lines.some((l) => /^info: smtp_alert '\[lb01\] VRRP instance VI_1: MASTER' sent to ops@example.test, oncall@example.test via 127\.0\.0\.1:\d+$/.test(l)), lines.join('\n'))
})

test('a mail server that never answers delays nothing: scripts run at once, the failure is logged later', async () => {
  const silent = await silentServer()
  after(() => silent.close())
  const out = join(dir, 'master.out')
  const s = join(dir, 'master.sh')
  writeFileSync(s, `#!/bin/sh\ndate +%s%N > ${out}\n`)
  chmodSync(s, 0o755)
  const {notifier, lines} = await notifierFor(silent.port, `  notify_master ${s}`)
  notifier.start()
  const t0 = performance.now()
  notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: 150, reason: 'master down timer expired'})
  const returnedAfter = performance.now() - t0
  assert.ok(returnedAfter < 50, `notify() took ${returnedAfter} ms`)
  // The script has run long before the mail gives up (smtp_connect_timeout is 1 s).
  for (let i = 0; i < 100; i++) {
    try {
      readFileSync(out)
      break
    } catch {
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  const scriptDoneAfter = performance.now() - t0
  assert.ok(scriptDoneAfter < 800, `script done after ${scriptDoneAfter} ms`)
  assert.deepEqual(lines.filter((l) => l.startsWith('error')), [], 'no failure yet')
  await notifier.idle()
  const failedAfter = performance.now() - t0
  assert.ok(failedAfter >= 900 && failedAfter < 5000, `mail gave up after ${failedAfter} ms`)
  const errors = lines.filter((l) => l.startsWith('error'))
  assert.equal(errors.length, 1, lines.join('\n'))
  assert.match(errors[0]!, /^error: smtp_alert '\[lb01\] VRRP instance VI_1: MASTER' via 127\.0\.0\.1:\d+ failed: .*(timeout|Timeout|no answer)/)
  await notifier.stop()
})

test('a refused connection is logged, not thrown', async () => {
  const silent = await silentServer()
  const port = silent.port
  await silent.close()
  const {notifier, lines} = await notifierFor(port)
  notifier.start()
  notifier.notify({kind: 'INSTANCE', name: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: 150, reason: 'x'})
  await notifier.stop()
  assert.ok(lines.some((l) => /^error: smtp_alert .* failed: .*ECONNREFUSED/.test(l)), lines.join('\n'))
})
