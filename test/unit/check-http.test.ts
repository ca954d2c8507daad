import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {httpCheck, parseStatusCodes, statusAccepted} from '../../src/daemon/check/http-check.js'
import {genhash} from '../../src/daemon/check/genhash.js'
import {runCheck} from '../../src/daemon/check/run-check.js'

// A real HTTP server and a real TLS server (certificate generated here) on loopback.

const lo = '127.0.0.1'
const body = 'hello from rs1\n'
const md5 = createHash('md5').update(body).digest('hex')
const seenHosts: string[] = []
const seenSni: string[] = []

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  seenHosts.push(req.headers.host ?? '')
  if (req.url === '/') res.end(body)
  else if (req.url === '/moved') {
    res.writeHead(302, {Location: '/'})
    res.end()
  } else if (req.url === '/hang') {
    // Accepts the request and never answers.
  } else {
    res.writeHead(404)
    res.end('nope')
  }
}

let plain: http.Server
let tls: https.Server
let silent: net.Server
let httpPort = 0
let httpsPort = 0
let silentPort = 0
let dir = ''
const silentSockets: net.Socket[] = []

async function listen(s: net.Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, lo, r))
  return (s.address() as net.AddressInfo).port
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kaopsd-tls-'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=rs1.test'], {stdio: 'ignore'})
  plain = http.createServer(handler)
  tls = https.createServer({key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem'))}, handler)
  tls.on('connection', (c: net.Socket) => tlsSockets.push(c))
  tls.on('secureConnection', (s) => seenSni.push(String((s as unknown as {servername?: string}).servername ?? '')))
  silent = net.createServer((c) => silentSockets.push(c))
  httpPort = await listen(plain)
  httpsPort = await listen(tls)
  silentPort = await listen(silent)
})

const tlsSockets: net.Socket[] = []

after(() => {
  // Close every server and any connection a timed-out check left open, so the file ends.
  // https.Server has no closeAllConnections() on Node 20: destroy what it accepted by hand.
  plain.closeAllConnections()
  for (const c of tlsSockets) c.destroy()
  for (const c of silentSockets) c.destroy()
  for (const s of [plain, tls, silent]) s.close()
  rmSync(dir, {recursive: true, force: true})
})

test('status_code: single codes and ranges, default 2xx', () => {
  const r = parseStatusCodes(['200-299', '302'])
  assert.deepEqual(r, [{from: 200, to: 299}, {from: 302, to: 302}])
  assert.equal(statusAccepted(204, r), true)
  assert.equal(statusAccepted(302, r), true)
  assert.equal(statusAccepted(301, r), false)
  assert.equal(statusAccepted(204, undefined), true)
  assert.equal(statusAccepted(302, undefined), false)
  assert.throws(() => parseStatusCodes(['2xx']), /status_code: "2xx"/)
  assert.throws(() => parseStatusCodes(['299-200']), /reversed/)
})

test('HTTP_GET: digest and status match; virtualhost becomes the Host header', async () => {
  const r = await httpCheck({address: lo, port: httpPort}, {
    ssl: false, connectTimeoutMs: 1000, virtualhost: 'www.rs.test',
    urls: [{path: '/', digest: md5}, {path: '/moved', statusCodes: parseStatusCodes(['300-399'])}],
  })
  assert.equal(r.ok, true, r.detail)
  assert.deepEqual(seenHosts.slice(-2), ['www.rs.test', 'www.rs.test'])
})

test('HTTP_GET: down on a wrong digest, a wrong status, a silent server (timeout) and a refused port', async () => {
  const t = {address: lo, port: httpPort}
  const wrong = await httpCheck(t, {ssl: false, connectTimeoutMs: 1000, urls: [{path: '/', digest: '0'.repeat(32)}]})
  assert.equal(wrong.ok, false)
  assert.match(wrong.detail, new RegExp(`digest ${md5} != expected`))
  const missing = await httpCheck(t, {ssl: false, connectTimeoutMs: 1000, urls: [{path: '/', digest: md5}, {path: '/gone'}]})
  assert.match(missing.detail, /\/gone: status 404 not accepted/)
  const hang = await httpCheck(t, {ssl: false, connectTimeoutMs: 300, urls: [{path: '/hang'}]})
  assert.match(hang.detail, /timed out after 300 ms/)
  const mute = await httpCheck({address: lo, port: silentPort}, {ssl: false, connectTimeoutMs: 300, urls: [{path: '/'}]})
  assert.equal(mute.ok, false)
  assert.ok(mute.latencyMs >= 250, `waited for connect_timeout (${mute.latencyMs} ms)`)
  const s = net.createServer()
  const closed = await listen(s)
  s.close()
  const refused = await httpCheck({address: lo, port: closed}, {ssl: false, connectTimeoutMs: 1000, urls: [{path: '/'}]})
  assert.match(refused.detail, /ECONNREFUSED/)
})

test('SSL_GET: self-signed certificate accepted, SNI is the virtualhost, digest checked', async () => {
  const r = await runCheck({address: '198.18.255.254', port: 1}, {
    type: 'SSL_GET', connectIp: lo, connectPort: httpsPort, connectTimeoutMs: 2000, virtualhost: 'rs1.test',
    urls: [{path: '/', digest: md5}],
  })
  assert.equal(r.ok, true, r.detail)
  assert.equal(seenSni.at(-1), 'rs1.test')
  const wrong = await runCheck({address: lo, port: httpsPort}, {type: 'SSL_GET', connectTimeoutMs: 2000, urls: [{path: '/x'}]})
  assert.match(wrong.detail, /^https:.*status 404/)
  // Plain HTTP to a TLS port fails instead of hanging.
  const plainToTls = await runCheck({address: lo, port: httpsPort}, {type: 'HTTP_GET', connectTimeoutMs: 1000, urls: [{path: '/'}]})
  assert.equal(plainToTls.ok, false)
})

test('genhash: prints the digest HTTP_GET expects, over HTTP and TLS', async () => {
  assert.equal(await genhash(lo, httpPort, '/'), md5)
  assert.equal(await genhash(lo, httpsPort, '/', {ssl: true, virtualhost: 'rs1.test'}), md5)
  await assert.rejects(genhash(lo, silentPort, '/', {timeoutMs: 200}))
})
