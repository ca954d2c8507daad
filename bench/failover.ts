// `npm run bench:failover`: kaopsd beside keepalived 2.2, same segment, same run.
//
// Two routers and a client in network namespaces on a bridge (198.18.42.0/24; the 100-instance
// VIPs in 198.18.43.0/24; routed nowhere), VRRPv2, advert_int 1, priorities 150/100, a client
// pinging the VIP every 10 ms. For each implementation, several rounds of:
//   hard failure  the master is frozen and SIGKILLed and its port goes down (a dead host);
//                 overhead = first advert of the new master - last advert of the old one
//                 - Master_Down_Interval (3 x advert + skew)
//   graceful stop SIGTERM; handover = first advert of the new master - the priority-0 advert
//                 - skew
//   restart       the master restarts and takes the VIP back, each daemon's best way (keepalived:
//                 stop, start, preempt; kaopsd: `kaopsd takeover` on the backup first, then
//                 restart, `takeover --end`, preempt): the pings the client lost
// all from tcpdump timestamps on the bridge, plus the pings the client lost. Then resident
// memory (VmRSS) and CPU (utime+stime) of the master and the backup with 1 and with 100
// instances over a window (keepalived's processes summed).
//
//   npm run bench:failover [-- --rounds N] [--window SECONDS] [--json]
// Needs root, tcpdump, ping, dist/kaopsd (npm run build) and /usr/sbin/keepalived.
import {parseArgs} from 'node:util'
import {readFileSync} from 'node:fs'
import {Capture, Daemon, VrrpSegment, sleep, vrrpConfig, waitFor, whyNoVrrpLab, type InstanceOptions} from '../test/lab/helpers/vrrp-net.js'

const {values: opts} = parseArgs({
  options: {rounds: {type: 'string', default: '5'}, window: {type: 'string', default: '20'}, json: {type: 'boolean', default: false}},
})
const rounds = Number(opts.rounds)
const windowS = Number(opts.window)
const why = whyNoVrrpLab({keepalived: true, tcpdump: true})
if (why) {
  console.error(`bench:failover cannot run here: ${why}`)
  process.exit(3)
}

type Impl = 'kaopsd' | 'keepalived'
const PRIO_MASTER = 150
const PRIO_BACKUP = 100
const SKEW_MS = ((256 - PRIO_BACKUP) * 1000) / 256
const MDI_MS = 3000 + SKEW_MS
const log = (line: string) => process.stderr.write(`  ${line}\n`)

interface Round {
  overheadMs: number
  lost: number
}
interface ImplResult {
  hard: Round[]
  graceful: Round[]
  /** Restarting the master and letting it take the VIP back: each daemon's best way (lost pings only). */
  restart: Round[]
  resources: {instances: number; role: 'master' | 'backup'; rssKiB: number; cpuPercent: number; processes: number}[]
}

const seg = VrrpSegment.create({prefix: '198.18.42', routers: 2, client: true})
const results: Record<Impl, ImplResult> = {
  kaopsd: {hard: [], graceful: [], restart: [], resources: []},
  keepalived: {hard: [], graceful: [], restart: [], resources: []},
}
const live = new Set<Daemon>()

function config(i: number, instances: number): string {
  const list: InstanceOptions[] = []
  for (let n = 1; n <= instances; n++) {
    list.push({
      name: `VI_${n}`,
      vrid: n,
      priority: i === 0 ? PRIO_MASTER : PRIO_BACKUP,
      ...(i === 0 ? {state: 'MASTER' as const} : {}),
      vips: [instances === 1 ? `${seg.vip()}/24` : `198.18.43.${n}/32`],
    })
  }
  return vrrpConfig({routerId: `r${i}`, instances: list})
}

async function start(impl: Impl, i: number, instances = 1): Promise<Daemon> {
  const d = impl === 'kaopsd' ? await seg.startKaopsd(i, config(i, instances)) : await seg.startKeepalived(i, config(i, instances))
  live.add(d)
  return d
}

async function stopAll(): Promise<void> {
  for (const d of live) if (d.running) await d.stop().catch(() => d.kill())
  live.clear()
  for (const i of [0, 1]) {
    for (const a of seg.addresses(i)) {
      if (a.startsWith('198.18.43.') || a === seg.vip()) seg.exec(seg.routerNs(i), ['ip', 'addr', 'del', `${a}/${a === seg.vip() ? 24 : 32}`, 'dev', 'eth0'])
    }
  }
}

/** Master on r0, backup on r1, VIP only on r0. */
async function pair(impl: Impl, backup?: Daemon): Promise<{master: Daemon; backup: Daemon}> {
  const master = await start(impl, 0)
  const b = backup ?? (await start(impl, 1))
  await master.waitState('MASTER', 10_000)
  await b.waitState('BACKUP', 10_000)
  await waitFor('the VIP on r0 only', () => seg.holders(seg.vip()).join() === '0', 5000)
  return {master, backup: b}
}

async function failoverRounds(impl: Impl, cap: Capture): Promise<void> {
  let {master, backup} = await pair(impl)
  for (let r = 0; r < rounds; r++) {
    for (const kind of ['hard', 'graceful'] as const) {
      await sleep(1500)
      const t0 = Date.now() / 1000
      const ping = seg.ping(seg.vip(), 10)
      await sleep(500)
      if (kind === 'hard') {
        await master.kill()
        seg.setPort(0, false)
      } else {
        await master.stop()
      }
      await backup.waitState('MASTER', 10_000)
      await sleep(500)
      const {lost} = await ping.stop()
      const from = kind === 'hard' ? cap.adverts(seg.address(0), {after: t0}).at(-1) : cap.adverts(seg.address(0), {prio: 0, after: t0}).at(-1)
      if (!from) throw new Error(`${impl} ${kind}: no advert from the old master in the capture`)
      const to = cap.adverts(seg.address(1), {after: from.t})[0]
      if (!to) throw new Error(`${impl} ${kind}: no advert from the new master in the capture`)
      const overheadMs = (to.t - from.t) * 1000 - (kind === 'hard' ? MDI_MS : SKEW_MS)
      results[impl][kind].push({overheadMs, lost})
      log(`${impl} round ${r + 1} ${kind}: ${overheadMs.toFixed(2)} ms beyond ${kind === 'hard' ? 'Master_Down_Interval' : 'skew'}, ${lost} pings lost`)

      // Back to the starting point: r0 returns and preempts.
      if (kind === 'hard') {
        seg.setPort(0, true)
        if (seg.addresses(0).includes(seg.vip())) seg.exec(seg.routerNs(0), ['ip', 'addr', 'del', `${seg.vip()}/24`, 'dev', 'eth0'])
      }
      live.delete(master)
      ;({master, backup} = await pair(impl, backup))
    }
  }
  await stopAll()
}

/**
 * An operator restarts the master (a new binary, say) and it takes the VIP back. keepalived's way:
 * stop (priority 0, the backup takes over after skew), start (it preempts back). kaopsd's way, as
 * `kaops apply` does it: `kaopsd takeover` on the backup first, restart, `takeover --end`.
 */
async function restartRounds(impl: Impl): Promise<void> {
  let {master, backup} = await pair(impl)
  for (let r = 0; r < rounds; r++) {
    await sleep(1500)
    const ping = seg.ping(seg.vip(), 10)
    await sleep(500)
    if (impl === 'kaopsd') {
      const took = await backup.takeoverCli(['--instance', 'VI_1', '--lease', '60'])
      if (took.code !== 0) throw new Error(`kaopsd takeover: ${took.stderr}`)
      await waitFor('the VIP on r1 only', () => seg.holders(seg.vip()).join() === '1', 5000)
    }
    await master.stop()
    live.delete(master)
    master = await start(impl, 0)
    if (impl === 'kaopsd') {
      // Back up and hearing the backup's 254: only then does the backup drop its priority.
      await master.waitState('BACKUP', 10_000)
      const end = await backup.takeoverCli(['--end', '--instance', 'VI_1'])
      if (end.code !== 0) throw new Error(`kaopsd takeover --end: ${end.stderr}`)
    }
    await master.waitState('MASTER', 10_000)
    await waitFor('the VIP on r0 only', () => seg.holders(seg.vip()).join() === '0', 5000)
    await sleep(500)
    const {lost} = await ping.stop()
    results[impl].restart.push({overheadMs: 0, lost})
    log(`${impl} round ${r + 1} restart of the master: ${lost} pings lost`)
  }
  await stopAll()
}

function sampleProcesses(d: Daemon): {rssKiB: number; ticks: number; processes: number} {
  let rssKiB = 0
  let ticks = 0
  const pids = d.pids()
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      rssKiB += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
      // Fields after the command name (which may hold spaces): utime is the 14th, stime the 15th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(rest[11]) + Number(rest[12])
    } catch {
      // exited between listing and reading
    }
  }
  return {rssKiB, ticks, processes: pids.length}
}

async function resources(impl: Impl, instances: number): Promise<void> {
  const master = await start(impl, 0, instances)
  const backup = await start(impl, 1, instances)
  await master.waitState('MASTER', 15_000, `VI_${instances}`)
  await backup.waitState('BACKUP', 15_000, `VI_${instances}`)
  await sleep(2000)
  const HZ = 100
  const before = [sampleProcesses(master), sampleProcesses(backup)]
  const t0 = performance.now()
  await sleep(windowS * 1000)
  const seconds = (performance.now() - t0) / 1000
  const after = [sampleProcesses(master), sampleProcesses(backup)]
  ;(['master', 'backup'] as const).forEach((role, k) => {
    const cpuPercent = ((after[k]!.ticks - before[k]!.ticks) / HZ / seconds) * 100
    results[impl].resources.push({instances, role, rssKiB: after[k]!.rssKiB, cpuPercent, processes: after[k]!.processes})
    log(`${impl} ${instances} instance(s) ${role}: RSS ${(after[k]!.rssKiB / 1024).toFixed(1)} MiB, CPU ${cpuPercent.toFixed(2)} %`)
  })
  await stopAll()
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const fmt = (xs: number[]) => `${median(xs).toFixed(2).padStart(7)} (${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)})`

let cap: Capture | undefined
let failed = false
try {
  cap = await seg.capture()
  for (const impl of ['keepalived', 'kaopsd'] as const) await failoverRounds(impl, cap)
  for (const impl of ['keepalived', 'kaopsd'] as const) await restartRounds(impl)
  for (const impl of ['keepalived', 'kaopsd'] as const) for (const n of [1, 100]) await resources(impl, n)
} catch (err) {
  failed = true
  console.error(`bench:failover: ${err instanceof Error ? err.message : String(err)}`)
  for (const d of live) console.error(`--- ${d.kind} in ${d.ns}:\n${d.output.slice(-1500)}`)
} finally {
  await cap?.stop()
  seg.destroy()
}

if (opts.json) {
  console.log(JSON.stringify({rounds, windowSeconds: windowS, skewMs: SKEW_MS, masterDownIntervalMs: MDI_MS, results}, null, 2))
} else if (!failed) {
  const k = results.kaopsd
  const l = results.keepalived
  console.log(`bench:failover  VRRPv2 advert_int 1, priorities ${PRIO_MASTER}/${PRIO_BACKUP}, skew ${SKEW_MS.toFixed(1)} ms, Master_Down_Interval ${MDI_MS.toFixed(1)} ms, ${rounds} rounds`)
  console.log('median (min..max)                          keepalived 2.2.7           kaopsd   difference')
  const row = (what: string, a: number[], b: number[], unit: string) =>
    console.log(`${what.padEnd(42)} ${fmt(a)} ${fmt(b)} ${(median(b) - median(a)).toFixed(2).padStart(8)} ${unit}`)
  row('hard failure: takeover beyond MDI', l.hard.map((r) => r.overheadMs), k.hard.map((r) => r.overheadMs), 'ms')
  row('graceful stop: handover beyond skew', l.graceful.map((r) => r.overheadMs), k.graceful.map((r) => r.overheadMs), 'ms')
  row('hard failure: pings lost (10 ms)', l.hard.map((r) => r.lost), k.hard.map((r) => r.lost), 'pings')
  row('graceful stop: pings lost (10 ms)', l.graceful.map((r) => r.lost), k.graceful.map((r) => r.lost), 'pings')
  row('restart of the master: pings lost (10 ms)', l.restart.map((r) => r.lost), k.restart.map((r) => r.lost), 'pings')
  const dHard = median(k.hard.map((r) => r.overheadMs)) - median(l.hard.map((r) => r.overheadMs))
  const dGrace = median(k.graceful.map((r) => r.overheadMs)) - median(l.graceful.map((r) => r.overheadMs))
  console.log(`target: kaopsd within 5 ms of keepalived: hard ${dHard <= 5 ? 'MET' : 'MISSED'} (${dHard.toFixed(2)} ms), graceful ${dGrace <= 5 ? 'MET' : 'MISSED'} (${dGrace.toFixed(2)} ms)`)
  console.log('')
  console.log(`resources over ${windowS} s              keepalived RSS MiB  CPU %      kaopsd RSS MiB  CPU %    RSS ratio`)
  for (const n of [1, 100]) {
    for (const role of ['master', 'backup'] as const) {
      const a = l.resources.find((x) => x.instances === n && x.role === role)
      const b = k.resources.find((x) => x.instances === n && x.role === role)
      if (!a || !b) continue
      console.log(
        `${`${n} instance(s), ${role}`.padEnd(36)} ${(a.rssKiB / 1024).toFixed(1).padStart(10)} ${a.cpuPercent.toFixed(2).padStart(6)} ${(b.rssKiB / 1024).toFixed(1).padStart(15)} ${b.cpuPercent.toFixed(2).padStart(6)} ${(b.rssKiB / a.rssKiB).toFixed(1).padStart(10)}x`,
      )
    }
  }
}
process.exitCode = failed ? 1 : 0
