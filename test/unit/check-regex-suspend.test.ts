import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import {compileBodyRegex, judgeBody, type BodyRegex} from '../../src/daemon/check/body-regex.js'
import {httpCheck} from '../../src/daemon/check/http-check.js'
import {parseConfigText} from '../../src/daemon/config/parse-config.js'
import {CheckService} from '../../src/daemon/core/check-service.js'
import {mapVirtualServers} from '../../src/daemon/core/lvs-mapping.js'
import type {LbBackend} from '../../src/daemon/lb/types.js'
import type {ScriptRunner} from '../../src/daemon/os/script-runner.js'

// regex in HTTP_GET/SSL_GET urls and ha_suspend, against a real HTTP server on loopback.

const lo = '127.0.0.1'
const statusPage = 'service: READY\nqueue depth 12\nbuild 7f3a\n'
let requests = 0
let server: http.Server
let port = 0

before(async () => {
  server = http.createServer((req, res) => {
    requests++
    if (req.url === '/status') res.end(statusPage)
    else if (req.url === '/big') res.end(`${'x'.repeat(200_000)}READY`)
    else {
      res.writeHead(404)
      res.end('nope')
    }
  })
  await new Promise<void>((r) => server.listen(0, lo, r))
  port = (server.address() as {port: number}).port
})

after(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

function compiled(pattern: string, options: string[] = [], o: {noMatch?: boolean; minOffset?: number; maxOffset?: number} = {}): BodyRegex {
  const r = compileBodyRegex(pattern, options, {noMatch: o.noMatch ?? false, minOffset: o.minOffset, maxOffset: o.maxOffset})
  if ('error' in r) throw new Error(r.error)
  return r
}

const page = Buffer.from(statusPage)

test('regex: found, not found, caseless, regex_no_match', () => {
  assert.equal(judgeBody(compiled('READY'), page).ok, true)
  assert.equal(judgeBody(compiled('ready'), page).ok, false)
  assert.equal(judgeBody(compiled('ready', ['caseless']), page).ok, true)
  assert.equal(judgeBody(compiled('FAILED', [], {noMatch: true}), page).ok, true)
  const inverted = judgeBody(compiled('READY', [], {noMatch: true}), page)
  assert.equal(inverted.ok, false)
  assert.match(inverted.detail, /regex_no_match/)
})

test('regex: multiline and dotall change ^ and . as in PCRE2', () => {
  assert.equal(judgeBody(compiled('^queue'), page).ok, false)
  assert.equal(judgeBody(compiled('^queue', ['multiline']), page).ok, true)
  assert.equal(judgeBody(compiled('READY.queue'), page).ok, false)
  assert.equal(judgeBody(compiled('READY.queue', ['dotall']), page).ok, true)
})

test('regex: min and max offset bound where a match may start (bytes)', () => {
  const at = statusPage.indexOf('READY') // 9
  assert.equal(judgeBody(compiled('READY', [], {minOffset: at}), page).ok, true)
  assert.equal(judgeBody(compiled('READY', [], {minOffset: at + 1}), page).ok, false)
  assert.equal(judgeBody(compiled('READY', [], {maxOffset: at}), page).ok, true)
  assert.equal(judgeBody(compiled('READY', [], {maxOffset: at - 1}), page).ok, false)
  // firstline: the match must start on the first line.
  assert.equal(judgeBody(compiled('queue', ['firstline']), page).ok, false)
  assert.equal(judgeBody(compiled('READY', ['firstline']), page).ok, true)
  // utf counts offsets in bytes too: "é" is two bytes.
  const utf = Buffer.from('é READY')
  assert.equal(judgeBody(compiled('READY', ['utf'], {maxOffset: 3}), utf).ok, true)
  assert.equal(judgeBody(compiled('READY', ['utf'], {maxOffset: 2}), utf).ok, false)
})

test('regex: a runaway pattern is cut off and fails the check instead of stalling the daemon', () => {
  const v = judgeBody(compiled('(a+)+b'), Buffer.from(`${'a'.repeat(40)}c`), 100)
  assert.equal(v.ok, false)
  assert.match(v.detail, /gave up/)
})

test('regex: options without a JavaScript equivalent and bad patterns are refused', () => {
  for (const o of ['extended', 'ungreedy', 'ucp', 'dupnames', 'no_auto_capture', 'auto_callout', 'bogus']) {
    const r = compileBodyRegex('x', [o], {noMatch: false})
    assert.ok('error' in r, o)
    assert.match(r.error, new RegExp(o))
  }
  assert.ok('error' in compileBodyRegex('a(b', [], {noMatch: false}))
  assert.ok('error' in compileBodyRegex('x', ['utf', 'never_utf'], {noMatch: false}))
  assert.ok('error' in compileBodyRegex('x', [], {noMatch: false, minOffset: 10, maxOffset: 5}))
})

test('HTTP_GET with regex against a real server: status, then the body is searched', async () => {
  const opts = (regex: BodyRegex, path = '/status') => ({ssl: false, connectTimeoutMs: 2000, urls: [{path, regex}]})
  const ok = await httpCheck({address: lo, port}, opts(compiled('service: (READY|DEGRADED)')))
  assert.equal(ok.ok, true, ok.detail)
  const missing = await httpCheck({address: lo, port}, opts(compiled('DEGRADED')))
  assert.equal(missing.ok, false)
  assert.match(missing.detail, /\/status: regex \/DEGRADED\/ not found/)
  const inverted = await httpCheck({address: lo, port}, opts(compiled('FAILED', [], {noMatch: true})))
  assert.equal(inverted.ok, true, inverted.detail)
  // The body beyond the first chunk is searched too (200 kB before the word).
  const far = await httpCheck({address: lo, port}, opts(compiled('READY$'), '/big'))
  assert.equal(far.ok, true, far.detail)
  // A 404 fails on its status before any regex.
  const gone = await httpCheck({address: lo, port}, opts(compiled('nope'), '/missing'))
  assert.equal(gone.ok, false)
  assert.match(gone.detail, /status 404/)
})

function conf(url: string, vsExtra = ''): string {
  return `virtual_server 198.18.0.10 80 {
  delay_loop 0.1
  lb_algo rr
  lb_kind NAT
  protocol TCP
${vsExtra}
  real_server ${lo} ${port} {
    HTTP_GET {
      connect_timeout 2
      url {
${url}
      }
    }
  }
}
`
}

test('config: regex keywords parse, map to the checker, and problems name their line', async () => {
  const good = await parseConfigText(conf(`        path /status\n        regex "READY"\n        regex_options caseless multiline\n        regex_min_offset 2\n        regex_max_offset 40\n        regex_no_match`), '/k.conf')
  assert.deepEqual(good.diagnostics.filter((d) => d.severity === 'error'), [])
  assert.deepEqual(good.diagnostics.filter((d) => /regex/.test(d.message)), [], 'no "not checked" warning any more')
  const mapped = mapVirtualServers(good.config, {heloName: 'x'})
  const check = mapped.servers[0]!.checked.checks[`${lo}:${port}`]
  const checker = (Array.isArray(check) ? check[0] : check)!.checker
  assert.equal(checker.type, 'HTTP_GET')
  assert.deepEqual(checker.type === 'HTTP_GET' ? checker.urls[0]!.regex : undefined,
    {pattern: 'READY', flags: 'im', noMatch: true, minOffset: 2, maxOffset: 40, firstLine: false})

  const badPattern = await parseConfigText(conf(`        path /status\n        regex "a(b"`), '/k.conf')
  const e1 = badPattern.diagnostics.filter((d) => d.severity === 'error')
  assert.equal(e1.length, 1)
  assert.equal(e1[0]!.line, 12)
  assert.match(e1[0]!.message, /regex 'a\(b' is not a valid/)

  const badOption = await parseConfigText(conf(`        path /status\n        regex "x"\n        regex_options caseless extended`), '/k.conf')
  const e2 = badOption.diagnostics.filter((d) => d.severity === 'error')
  assert.equal(e2.length, 1)
  assert.equal(e2[0]!.line, 13)
  assert.match(e2[0]!.message, /'extended' cannot be honoured/)
})

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

test('ha_suspend: no checks while the virtual address is not on the host, resumed when it appears', async () => {
  const {config, diagnostics} = await parseConfigText(conf('        path /status\n        regex READY', '  ha_suspend'), '/k.conf')
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), [])
  const backend: LbBackend = {name: 'nftables', async reconcile() { return {applied: '', changes: 0, warnings: []} }, async clear() {}}
  let hostAddresses = ['127.0.0.1', '198.18.0.99']
  const logs: string[] = []
  const line = (m: string) => { logs.push(m) }
  const service = new CheckService({
    log: {error: line, warning: line, notice: line, info: line, debug: line},
    scripts: () => ({}) as ScriptRunner,
    backend,
    localAddresses: async () => hostAddresses,
    addressPollMs: 30,
  })
  const before = requests
  await service.start(config)
  try {
    assert.equal(service.suspended().length, 1)
    assert.match(service.suspended()[0]!, /198\.18\.0\.10/)
    assert.ok(logs.some((l) => /198\.18\.0\.10 not on this host, health checks suspended/.test(l)), logs.join('\n'))
    // Several delay_loops (0.1 s) pass without a single request to the real server.
    await new Promise((r) => setTimeout(r, 600))
    assert.equal(requests, before, 'suspended checker must not connect')

    hostAddresses = ['127.0.0.1', '198.18.0.10']
    await waitFor('checks to resume', () => requests > before + 2)
    assert.deepEqual(service.suspended(), [])
    assert.ok(logs.some((l) => /health checks resumed/.test(l)))
    assert.equal(service.status()[0]!.realServers[0]!.up, true)

    hostAddresses = ['127.0.0.1']
    await waitFor('checks to be suspended again', () => service.suspended().length === 1)
    await new Promise((r) => setTimeout(r, 50))
    const frozen = requests
    await new Promise((r) => setTimeout(r, 500))
    assert.equal(requests, frozen, 'no requests while suspended again')
    assert.equal(service.status()[0]!.realServers[0]!.up, true, 'the real server keeps its last state')
  } finally {
    await service.stop(false)
  }
})
