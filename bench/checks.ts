// `npm run bench:checks`: kaopsd's health checkers at scale.
//
// 5,000 real servers, each a TCP listener on its own loopback address (127.10.A.B:80; Linux
// routes all of 127.0.0.0/8 to lo, so every such address is a loopback alias without an `ip
// addr add`), all in a network namespace of the bench's own so nothing leaks. One
// virtual_server (198.18.52.100:80, rr, NAT: nftables programs it inside that namespace) with
// TCP_CHECK on every real server, delay_loop 6, connect_timeout 3, retry 1,
// delay_before_retry 1. kaopsd runs with -C (checkers only). Measured:
//   - CPU share (utime+stime over wall time, % of one core) and VmRSS over the window;
//   - for a few servers whose listener is closed: the time from the close to kaopsd's DOWN
//     log line, and to the address leaving the nftables map (in the kernel).
// keepalived's checker process (keepalived -C) needs IPVS to start; where the kernel has
// none it is not run and only kaopsd's numbers are printed, with that note.
//
//   npm run bench:checks [-- --servers N] [--window SECONDS] [--deaths N] [--json]
// Needs root, ip, nft and dist/kaopsd (npm run build; KAOPSD_BIN overrides).
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs} from 'node:util'
import {askControlSocket} from '../src/daemon/control/control-client.js'
import type {KaopsdStatus} from '../src/model/kaopsd-status.js'

const {values: opts} = parseArgs({
  options: {
    servers: {type: 'string', default: '5000'},
    window: {type: 'string', default: '30'},
    deaths: {type: 'string', default: '3'},
    json: {type: 'boolean', default: false},
  },
})
const SERVERS = Number(opts.servers)
const WINDOW_S = Number(opts.window)
const DEATHS = Number(opts.deaths)
const DELAY_LOOP_S = 6
const DELAY_BEFORE_RETRY_S = 1
const KAOPSD = resolve(process.env.KAOPSD_BIN ?? 'dist/kaopsd')
const NS = `kp13b-${process.pid}`
const VIP = '198.18.52.100'
const log = (line: string) => process.stderr.write(`  ${line}\n`)
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (a network namespace, nftables)'
  if (!existsSync(KAOPSD)) return `${KAOPSD} is missing (npm run build)`
  if (spawnSync('nft', ['--version']).status !== 0) return 'nft is not installed'
  if (!(SERVERS >= 1 && SERVERS <= 60_000 && WINDOW_S >= 1 && WINDOW_S <= 300 && DEATHS >= 0 && DEATHS <= SERVERS)) return 'bad --servers/--window/--deaths'
  return undefined
}

const address = (i: number) => `127.10.${Math.floor(i / 250)}.${(i % 250) + 1}`

function config(): string {
  const rs: string[] = []
  for (let i = 0; i < SERVERS; i++) {
    rs.push(`  real_server ${address(i)} 80 {\n    TCP_CHECK {\n      connect_timeout 3\n      retry 1\n      delay_before_retry ${DELAY_BEFORE_RETRY_S}\n    }\n  }`)
  }
  return `global_defs {\n  router_id bench\n  lvs_backend nftables\n}\nvirtual_server ${VIP} 80 {\n  delay_loop ${DELAY_LOOP_S}\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${rs.join('\n')}\n}\n`
}

/** The listeners: one node process; "close I" on stdin closes listener I and prints "closed I <ms>". */
const listenerSource = `
const net = require('node:net')
const n = Number(process.argv[1])
const addr = (i) => '127.10.' + Math.floor(i / 250) + '.' + ((i % 250) + 1)
const servers = []
let ready = 0
for (let i = 0; i < n; i++) {
  const s = net.createServer((c) => c.destroy())
  s.listen(80, addr(i), () => { if (++ready === n) console.log('ready') })
  servers.push(s)
}
let buf = ''
process.stdin.setEncoding('utf8').on('data', (d) => {
  buf += d
  for (let k; (k = buf.indexOf('\\n')) >= 0; buf = buf.slice(k + 1)) {
    const i = Number(buf.slice(0, k).split(' ')[1])
    servers[i].close()
    console.log('closed ' + i + ' ' + Date.now())
  }
})
`

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
  return Number(rest[11]) + Number(rest[12])
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : 0
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buf = ''
    stream?.setEncoding('utf8').on('data', (d: string) => {
      buf += d
      const parts = buf.split('\n')
      buf = parts.pop()!
      parts.forEach(onLine)
    })
  }
}

async function waitFor<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    try {
      const v = await f()
      if (v !== undefined && v !== false) return v as T
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(100)
  }
}

async function main(): Promise<number> {
  const why = whyNot()
  if (why) {
    console.error(`bench:checks cannot run here: ${why}`)
    return 3
  }
  const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim()) || 100
  const dir = mkdtempSync(join(tmpdir(), 'kaops-bench-checks-'))
  const children: ChildProcess[] = []
  const spawnIn = (argv: string[]): ChildProcess => {
    // A raised descriptor limit: 5,000 listeners in one process, and as many checks in flight.
    const c = spawn('ip', ['netns', 'exec', NS, 'sh', '-c', 'ulimit -n "$(ulimit -Hn)"; exec "$@"', 'sh', ...argv], {stdio: ['pipe', 'pipe', 'pipe']})
    children.push(c)
    return c
  }
  try {
    spawnSync('ip', ['netns', 'add', NS])
    spawnSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up'])
    log(`${SERVERS} listeners on 127.10.x.y:80 in netns ${NS}`)
    const listeners = spawnIn([process.execPath, '-e', listenerSource, String(SERVERS)])
    const closed = new Map<number, number>()
    let listenersReady = false
    lines(listeners, (l) => {
      if (l === 'ready') listenersReady = true
      const m = /^closed (\d+) (\d+)$/.exec(l)
      if (m) closed.set(Number(m[1]), Number(m[2]))
    })
    await waitFor('the listeners', () => listenersReady, 60_000)

    const conf = join(dir, 'keepalived.conf')
    const sock = join(dir, 'kaopsd.sock')
    writeFileSync(conf, config())
    const startedAt = Date.now()
    const kaopsd = spawnIn([KAOPSD, '-n', '-l', '-C', '-f', conf, '--control-socket', sock])
    const downAt = new Map<string, number>()
    let output = ''
    lines(kaopsd, (l) => {
      output = (output + l + '\n').slice(-4000)
      const m = /real server (\S+):80 of virtual_server .* is DOWN/.exec(l)
      if (m && !downAt.has(m[1]!)) downAt.set(m[1]!, Date.now())
    })
    const status = () => askControlSocket(sock, 'status', 5000) as Promise<KaopsdStatus>
    await waitFor('kaopsd to program the data plane', async () => {
      if (kaopsd.exitCode !== null) throw new Error(`kaopsd exited: ${output}`)
      return (await status()).virtualServers[0]?.realServers.length === SERVERS
    }, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`)
    })
    const pid = kaopsd.pid!
    log(`kaopsd (pid ${pid}) up in ${Date.now() - startedAt} ms; letting one delay_loop pass (warmup spreads the first checks)`)
    await sleep(DELAY_LOOP_S * 1000 + 2000)
    const checked = (await status()).virtualServers[0]!.realServers.filter((r) => r.lastCheck !== null).length

    log(`measuring CPU and RSS over ${WINDOW_S} s`)
    const t0 = performance.now()
    const c0 = cpuTicks(pid)
    let rssMax = 0
    for (let s = 0; s < WINDOW_S; s++) {
      await sleep(1000)
      rssMax = Math.max(rssMax, rssKiB(pid))
    }
    const cpuPct = ((cpuTicks(pid) - c0) / CLK_TCK / ((performance.now() - t0) / 1000)) * 100
    const rssEnd = rssKiB(pid)
    const st = (await status()).virtualServers[0]!
    const up = st.realServers.filter((r) => r.up).length
    const latencies = st.realServers.flatMap((r) => (r.lastCheck ? [r.lastCheck.latencyMs] : [])).sort((a, b) => a - b)

    // Deaths: spread over the address range; each measured to the log line and to the kernel.
    const victims = Array.from({length: DEATHS}, (_, k) => Math.floor(((k + 0.5) * SERVERS) / DEATHS))
    log(`closing ${victims.length} listener(s): ${victims.map(address).join(', ')}`)
    for (const v of victims) listeners.stdin!.write(`close ${v}\n`)
    await waitFor('the closes', () => victims.every((v) => closed.has(v)), 5000)
    const inKernel = new Map<string, number>()
    const bound = (DELAY_LOOP_S + DELAY_BEFORE_RETRY_S + 3) * 1000 + 5000
    await waitFor('every closed server out of the nftables map', () => {
      const text = spawnSync('ip', ['netns', 'exec', NS, 'nft', 'list', 'table', 'ip', 'kaopsd'], {encoding: 'utf8'}).stdout
      const now = Date.now()
      for (const v of victims) if (!inKernel.has(address(v)) && !text.includes(`${address(v)} . 80`)) inKernel.set(address(v), now)
      return inKernel.size === victims.length
    }, bound)
    const deaths = victims.map((v) => ({
      server: address(v),
      toDownLogMs: (downAt.get(address(v)) ?? NaN) - closed.get(v)!,
      toKernelMs: inKernel.get(address(v))! - closed.get(v)!,
    }))
    const keepalived = existsSync('/proc/net/ip_vs')
      ? 'keepalived -C needs IPVS; this bench drives only kaopsd (no comparison implemented)'
      : 'keepalived\'s checker (keepalived -C) needs IPVS and this kernel has none (/proc/net/ip_vs is missing): not run, no comparison'

    const result = {
      servers: SERVERS,
      checker: 'TCP_CHECK',
      delayLoopS: DELAY_LOOP_S,
      windowS: WINDOW_S,
      kaopsd: {
        cpuPercentOfOneCore: Math.round(cpuPct * 10) / 10,
        rssMiB: {end: Math.round(rssEnd / 102.4) / 10, max: Math.round(rssMax / 102.4) / 10},
        checksPerSecond: Math.round(SERVERS / DELAY_LOOP_S),
        serversCheckedBeforeWindow: checked,
        serversUp: up,
        checkLatencyMs: {p50: latencies[Math.floor(latencies.length / 2)] ?? null, p99: latencies[Math.floor(latencies.length * 0.99)] ?? null},
        deaths,
        expectedWorstCaseMs: (DELAY_LOOP_S + DELAY_BEFORE_RETRY_S) * 1000,
      },
      keepalived,
    }
    if (opts.json) {
      console.log(JSON.stringify(result, null, 2))
    } else {
      const k = result.kaopsd
      console.log(`bench:checks  ${SERVERS} real servers, TCP_CHECK, delay_loop ${DELAY_LOOP_S} s (${k.checksPerSecond} checks/s), window ${WINDOW_S} s`)
      console.log(`  kaopsd      CPU ${k.cpuPercentOfOneCore}% of one core, RSS ${k.rssMiB.end} MiB (max ${k.rssMiB.max}), ${k.serversUp}/${SERVERS} up, check latency p50 ${k.checkLatencyMs.p50} ms p99 ${k.checkLatencyMs.p99} ms`)
      for (const d of k.deaths) console.log(`  death       ${d.server}: DOWN logged after ${d.toDownLogMs} ms, out of the nftables map after ${d.toKernelMs} ms (worst case by config: delay_loop + delay_before_retry = ${k.expectedWorstCaseMs} ms)`)
      console.log(`  keepalived  ${keepalived}`)
    }
    return 0
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await sleep(200)
    spawnSync('ip', ['netns', 'del', NS])
    rmSync(dir, {recursive: true, force: true})
  }
}

main().then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  console.error(`bench:checks failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})
