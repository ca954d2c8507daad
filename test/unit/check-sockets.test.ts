import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, execFileSync} from 'node:child_process'
import dgram from 'node:dgram'
import net from 'node:net'
import {tcpCheck} from '../../src/daemon/check/tcp-check.js'
import {smtpCheck} from '../../src/daemon/check/smtp-check.js'
import {dnsCheck} from '../../src/daemon/check/dns-check.js'
import {udpCheck} from '../../src/daemon/check/udp-check.js'
import {pingArgs, pingCheck} from '../../src/daemon/check/ping-check.js'
import {miscCheck, miscVerdict} from '../../src/daemon/check/misc-check.js'
import {decodeHeader, encodeQuery, recordType} from '../../src/daemon/check/dns-codec.js'
import {runCheck} from '../../src/daemon/check/run-check.js'

// Every checker runs against a real server this test starts on loopback.

const lo = '127.0.0.1'

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, lo, r))
  return (server.address() as net.AddressInfo).port
}

/** A port with nothing listening: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const s = net.createServer()
  const port = await listen(s)
  await new Promise((r) => s.close(r))
  return port
}

async function udpServer(onMessage: (msg: Buffer, reply: (b: Buffer) => void) => void): Promise<{port: number; close: () => void}> {
  const s = dgram.createSocket('udp4')
  s.on('message', (msg, rinfo) => onMessage(msg, (b) => s.send(b, rinfo.port, rinfo.address)))
  await new Promise<void>((r) => s.bind(0, lo, r))
  return {port: s.address().port, close: () => s.close()}
}

test('TCP_CHECK: up against a listener, down on a refused port, connect_ip/connect_port override the target', async () => {
  const server = net.createServer((s) => s.destroy())
  const port = await listen(server)
  try {
    const up = await tcpCheck({address: lo, port}, {connectTimeoutMs: 1000})
    assert.equal(up.ok, true, up.detail)
    assert.ok(up.latencyMs >= 0 && up.latencyMs < 1000)
    const refused = await tcpCheck({address: lo, port: await closedPort()}, {connectTimeoutMs: 1000})
    assert.equal(refused.ok, false)
    assert.match(refused.detail, /ECONNREFUSED/)
    // The real server's own port is closed, but connect_port points at the listener.
    const redirected = await tcpCheck({address: '198.18.255.254', port: 1}, {connectIp: lo, connectPort: port, bindTo: lo, connectTimeoutMs: 1000})
    assert.equal(redirected.ok, true, redirected.detail)
  } finally {
    server.close()
  }
})

test('TCP_CHECK: connect_timeout when the SYN is never answered (a full accept queue)', async (t) => {
  // A listener with backlog 0 that never accepts: once its queue holds one connection, the
  // kernel drops further SYNs, which is exactly a server that does not answer.
  let py
  try {
    execFileSync('python3', ['-c', 'pass'])
  } catch {
    t.skip('python3 is not installed: no way to hold a listener that never accepts')
    return
  }
  py = spawn('python3', ['-c', "import socket,sys,time\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen(0);print(s.getsockname()[1],flush=True);time.sleep(20)"])
  try {
    const port = await new Promise<number>((r) => py.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))))
    const fillers = [net.connect(port, lo), net.connect(port, lo)]
    fillers.forEach((s) => s.on('error', () => {}))
    await new Promise((r) => setTimeout(r, 100))
    const r = await tcpCheck({address: lo, port}, {connectTimeoutMs: 300})
    assert.equal(r.ok, false)
    assert.match(r.detail, /timed out after 300 ms/)
    assert.ok(r.latencyMs >= 250 && r.latencyMs < 2000, `latency ${r.latencyMs}`)
    fillers.forEach((s) => s.destroy())
  } finally {
    py.kill('SIGKILL')
  }
})

/** A tiny SMTP responder: configurable banner and HELO answer; records what it heard. */
async function smtpServer(banner: string | undefined, heloReply = '250 ok'): Promise<{port: number; heard: string[]; close: () => void}> {
  const heard: string[] = []
  const server = net.createServer((sock) => {
    if (banner !== undefined) sock.write(`${banner}\r\n`)
    let buf = ''
    sock.on('data', (d) => {
      buf += d.toString()
      let i
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 2)
        heard.push(line)
        if (line.startsWith('HELO')) sock.write(`${heloReply}\r\n`)
        if (line === 'QUIT') sock.end('221 bye\r\n')
      }
    })
    sock.on('error', () => {})
  })
  const port = await listen(server)
  return {port, heard, close: () => server.close()}
}

test('SMTP_CHECK: 220 banner (multi-line), HELO 250, QUIT', async () => {
  const s = await smtpServer('220-mail.example ESMTP\r\n220 ready')
  try {
    const r = await smtpCheck({address: lo, port: s.port}, {connectTimeoutMs: 1000, heloName: 'director1'})
    assert.equal(r.ok, true, r.detail)
    await new Promise((res) => setTimeout(res, 50))
    assert.deepEqual(s.heard, ['HELO director1', 'QUIT'])
  } finally {
    s.close()
  }
})

test('SMTP_CHECK: down on a 554 banner, a refused HELO, a silent server (timeout) and a refused port', async () => {
  const bad = await smtpServer('554 no service')
  const badHelo = await smtpServer('220 ready', '501 who are you')
  const silent = await smtpServer(undefined)
  try {
    const r1 = await smtpCheck({address: lo, port: bad.port}, {connectTimeoutMs: 1000, heloName: 'd'})
    assert.equal(r1.ok, false)
    assert.match(r1.detail, /banner 554/)
    const r2 = await smtpCheck({address: lo, port: badHelo.port}, {connectTimeoutMs: 1000, heloName: 'd'})
    assert.match(r2.detail, /HELO answered 501/)
    const r3 = await smtpCheck({address: lo, port: silent.port}, {connectTimeoutMs: 300, heloName: 'd'})
    assert.equal(r3.ok, false)
    assert.match(r3.detail, /timed out after 300 ms/)
    const r4 = await smtpCheck({address: lo, port: await closedPort()}, {connectTimeoutMs: 300, heloName: 'd'})
    assert.match(r4.detail, /ECONNREFUSED/)
  } finally {
    bad.close(); badHelo.close(); silent.close()
  }
})

test('DNS codec: the query is a well-formed RFC 1035 question', () => {
  const q = encodeQuery(0x1234, 'www.example.org.', recordType('AAAA'))
  assert.equal(q.toString('hex'), '123401000001000000000000' + '03777777076578616d706c65036f726700' + '001c0001')
  assert.deepEqual(decodeHeader(q), {id: 0x1234, isResponse: false, rcode: 0, questions: 1, answers: 0})
  assert.equal(recordType('mx'), 15)
  assert.throws(() => recordType('BOGUS'), /unknown/)
})

/** A DNS responder: answers A queries for "up.test" with one record, NXDOMAIN otherwise. */
function dnsAnswer(q: Buffer): Buffer {
  const name = q.subarray(12, q.length - 4)
  const known = name.equals(Buffer.from('\x02up\x04test\x00', 'latin1'))
  const h = Buffer.from(q.subarray(0, 12))
  h.writeUInt16BE(known ? 0x8180 : 0x8183, 2)
  h.writeUInt16BE(known ? 1 : 0, 6)
  const answer = known ? Buffer.from('c00c000100010000003c0004c6120001', 'hex') : Buffer.alloc(0)
  return Buffer.concat([h, q.subarray(12), answer])
}

test('DNS_CHECK: up with an answer; down on NXDOMAIN, silence (timeout) and ICMP port unreachable', async () => {
  const dns = await udpServer((msg, reply) => reply(dnsAnswer(msg)))
  const mute = await udpServer(() => {})
  try {
    const up = await dnsCheck({address: lo, port: dns.port}, {connectTimeoutMs: 1000, queryType: 'A', name: 'up.test'})
    assert.equal(up.ok, true, up.detail)
    const nx = await dnsCheck({address: lo, port: dns.port}, {connectTimeoutMs: 1000, queryType: 'A', name: 'missing.test'})
    assert.equal(nx.ok, false)
    assert.match(nx.detail, /rcode 3/)
    const silent = await dnsCheck({address: lo, port: mute.port}, {connectTimeoutMs: 300, queryType: 'A', name: 'up.test'})
    assert.match(silent.detail, /timed out after 300 ms/)
    const refused = await dnsCheck({address: lo, port: await closedPort()}, {connectTimeoutMs: 1000, queryType: 'A', name: 'up.test'})
    assert.equal(refused.ok, false)
    assert.match(refused.detail, /ECONNREFUSED/)
  } finally {
    dns.close(); mute.close()
  }
})

test('UDP_CHECK: echo reply, expected reply mismatch, require_reply timeout, ICMP unreachable', async () => {
  const echo = await udpServer((msg, reply) => reply(msg))
  const mute = await udpServer(() => {})
  const payload = Buffer.from('kaopsd-ping')
  try {
    const up = await udpCheck({address: lo, port: echo.port}, {connectTimeoutMs: 1000, payload, requireReply: true, expectedReply: Buffer.from('kaopsd')})
    assert.equal(up.ok, true, up.detail)
    const wrong = await udpCheck({address: lo, port: echo.port}, {connectTimeoutMs: 1000, payload, requireReply: true, expectedReply: Buffer.from('other')})
    assert.equal(wrong.ok, false)
    const silentRequired = await udpCheck({address: lo, port: mute.port}, {connectTimeoutMs: 300, payload, requireReply: true})
    assert.equal(silentRequired.ok, false)
    assert.match(silentRequired.detail, /no reply within 300 ms/)
    const silentOptional = await udpCheck({address: lo, port: mute.port}, {connectTimeoutMs: 300, payload, requireReply: false})
    assert.equal(silentOptional.ok, true, silentOptional.detail)
    const closed = await udpCheck({address: lo, port: await closedPort()}, {connectTimeoutMs: 1000, payload, requireReply: false})
    assert.equal(closed.ok, false)
    assert.match(closed.detail, /ECONNREFUSED/)
  } finally {
    echo.close(); mute.close()
  }
})

test('PING_CHECK: the ping(8) fallback answers for loopback; arguments carry -W and -I', async (t) => {
  assert.deepEqual(pingArgs('127.0.0.1', {connectTimeoutMs: 2500, bindTo: 'lo'}), ['-n', '-c1', '-W3', '-I', 'lo', '127.0.0.1'])
  assert.deepEqual(pingArgs('::1', {connectTimeoutMs: 100}), ['-6', '-n', '-c1', '-W1', '::1'])
  try {
    execFileSync('ping', ['-V'], {stdio: 'ignore'})
  } catch {
    t.skip('ping(8) is not installed')
    return
  }
  const r = await pingCheck({address: lo, port: 0}, {connectTimeoutMs: 1000})
  assert.equal(r.ok, true, r.detail)
})

test('MISC_CHECK: exit 0 up, exit 1 down, misc_dynamic weights, misc_timeout kills the script', async () => {
  assert.deepEqual(miscVerdict(0, true), {ok: true})
  assert.deepEqual(miscVerdict(1, true), {ok: false})
  assert.deepEqual(miscVerdict(2, true), {ok: true, weight: 0})
  assert.deepEqual(miscVerdict(12, true), {ok: true, weight: 10})
  assert.deepEqual(miscVerdict(12, false), {ok: false})
  assert.deepEqual(miscVerdict(null, true), {ok: false})
  const t = {address: lo, port: 0}
  assert.equal((await miscCheck(t, {miscPath: 'exit 0', miscTimeoutMs: 2000, dynamic: false})).ok, true)
  const down = await miscCheck(t, {miscPath: 'exit 1', miscTimeoutMs: 2000, dynamic: false})
  assert.equal(down.ok, false)
  assert.match(down.detail, /exit 1/)
  const dyn = await runCheck(t, {type: 'MISC_CHECK', miscPath: 'exit 7', miscTimeoutMs: 2000, dynamic: true})
  assert.deepEqual([dyn.ok, dyn.weight], [true, 5])
  const slow = await miscCheck(t, {miscPath: 'sleep 5; exit 0', miscTimeoutMs: 200, dynamic: false})
  assert.equal(slow.ok, false)
  assert.match(slow.detail, /timed out after 200 ms/)
  assert.ok(slow.latencyMs < 2000, `the script group was killed promptly (${slow.latencyMs} ms)`)
})
