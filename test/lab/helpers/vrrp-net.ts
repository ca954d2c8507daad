// A VRRP lab segment for tests and the failover bench: N router namespaces and one client
// namespace, each with an `eth0` veth whose other end sits on bridge `br0` in a namespace of
// its own (so a capture on br0 sees every frame and a port can be cut like a cable). Addresses
// come from one 198.18.X.0/24 chosen by the caller, routed nowhere. Starts kaopsd or
// keepalived in a router namespace with a generated keepalived.conf, reads state, captures
// VRRP and ARP on the bridge, and always cleans up: every process it started is killed by pid
// and every namespace it created is deleted.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {createInterface} from 'node:readline'
import {randomBytes} from 'node:crypto'
import type {KaopsdStatus, TakeoverAnswer, VrrpInstanceStatus} from '../../../src/model/kaopsd-status.js'
import {askControlSocket} from '../../../src/daemon/control/control-client.js'

export const KAOPSD = resolve(process.env.KAOPSD_BIN ?? 'dist/kaopsd')
export const KEEPALIVED = process.env.KEEPALIVED_BIN ?? '/usr/sbin/keepalived'

/** Why the lab cannot run here, or undefined when it can. */
export function whyNoVrrpLab(opts: {keepalived?: boolean; tcpdump?: boolean} = {}): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw sockets)'
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'ip netns does not work here'
  if (!existsSync(KAOPSD)) return `${KAOPSD} is missing (npm run build)`
  if (opts.keepalived && !existsSync(KEEPALIVED)) return `${KEEPALIVED} is missing (apt-get install keepalived)`
  if (opts.tcpdump && spawnSync('tcpdump', ['--version']).status !== 0) return 'tcpdump is missing'
  return undefined
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`)
  return r.stdout
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls until check returns a value that is not undefined/false; throws with `what` on timeout. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v as T
    } catch (err) {
      last = err
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`)
    await sleep(everyMs)
  }
}

/** Options of one vrrp_instance in a generated keepalived.conf. */
export interface InstanceOptions {
  name?: string
  vrid?: number
  priority: number
  state?: 'MASTER' | 'BACKUP'
  version?: 2 | 3
  /** Seconds. */
  advertInt?: number
  vips: string[]
  nopreempt?: boolean
  /** Seconds. */
  preemptDelay?: number
  authPass?: string
  unicast?: {src: string; peers: string[]}
  /** track_script entries: name and weight (weight 0 means a failure is FAULT). */
  trackScripts?: {name: string; weight: number}[]
}

export interface ScriptOptions {
  name: string
  /** argv; keepalived and kaopsd both run it without a shell. */
  script: string
  interval?: number
  fall?: number
  rise?: number
}

/** A keepalived.conf both kaopsd and keepalived 2.2.7 accept. */
export function vrrpConfig(o: {routerId: string; instances: InstanceOptions[]; scripts?: ScriptOptions[]}): string {
  const lines = ['global_defs {', `  router_id ${o.routerId}`, '  enable_script_security', '  script_user root', '}']
  for (const s of o.scripts ?? []) {
    lines.push(`vrrp_script ${s.name} {`, `  script "${s.script}"`, `  interval ${s.interval ?? 1}`, `  fall ${s.fall ?? 1}`, `  rise ${s.rise ?? 1}`, '}')
  }
  o.instances.forEach((i, n) => {
    lines.push(`vrrp_instance ${i.name ?? `VI_${n + 1}`} {`)
    lines.push(`  state ${i.state ?? 'BACKUP'}`, '  interface eth0', `  virtual_router_id ${i.vrid ?? 51}`, `  priority ${i.priority}`)
    lines.push(`  advert_int ${i.advertInt ?? 1}`, `  version ${i.version ?? 2}`)
    if (i.nopreempt) lines.push('  nopreempt')
    if (i.preemptDelay !== undefined) lines.push(`  preempt_delay ${i.preemptDelay}`)
    if (i.authPass) lines.push('  authentication {', '    auth_type PASS', `    auth_pass ${i.authPass}`, '  }')
    if (i.unicast) {
      lines.push(`  unicast_src_ip ${i.unicast.src}`, '  unicast_peer {', ...i.unicast.peers.map((p) => `    ${p}`), '  }')
    }
    if (i.trackScripts?.length) lines.push('  track_script {', ...i.trackScripts.map((t) => `    ${t.name} weight ${t.weight}`), '  }')
    lines.push('  virtual_ipaddress {', ...i.vips.map((v) => `    ${v} dev eth0`), '  }', '}')
  })
  return lines.join('\n') + '\n'
}

/** One VRRP or ARP frame seen on the bridge. */
export interface CapturedPacket {
  /** Seconds since the epoch, from tcpdump -tt (microseconds). */
  t: number
  kind: 'vrrp' | 'arp'
  src: string
  dst: string
  vrid?: number
  prio?: number
  /** The raw tcpdump line, for failure messages. */
  line: string
}

export class Capture {
  readonly packets: CapturedPacket[] = []
  #closed: Promise<void>

  constructor(readonly child: ChildProcess) {
    const lines = createInterface({input: child.stdout!})
    lines.on('line', (line) => {
      const p = parseTcpdumpLine(line)
      if (p) this.packets.push(p)
    })
    this.#closed = new Promise((r) => child.once('exit', () => r()))
  }

  /** Adverts from src (optionally with a given priority), in order. */
  adverts(src?: string, filter: {prio?: number; vrid?: number; after?: number} = {}): CapturedPacket[] {
    return this.packets.filter(
      (p) =>
        p.kind === 'vrrp' &&
        (src === undefined || p.src === src) &&
        (filter.prio === undefined || p.prio === filter.prio) &&
        (filter.vrid === undefined || p.vrid === filter.vrid) &&
        (filter.after === undefined || p.t > filter.after),
    )
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT')
    await Promise.race([this.#closed, sleep(2000)])
  }
}

/** `1700000000.123456 IP 198.18.40.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 150, ...` */
export function parseTcpdumpLine(line: string): CapturedPacket | undefined {
  const vrrp = /^(\d+\.\d+) IP (\S+) > (\S+): VRRPv\d, Advertisement, vrid (\d+), prio (\d+)/.exec(line)
  if (vrrp) return {t: Number(vrrp[1]), kind: 'vrrp', src: vrrp[2]!, dst: vrrp[3]!.replace(/:$/, ''), vrid: Number(vrrp[4]), prio: Number(vrrp[5]), line}
  const arp = /^(\d+\.\d+) ARP, (?:Request who-has|Reply) (\S+)/.exec(line)
  if (arp) return {t: Number(arp[1]), kind: 'arp', src: arp[2]!, dst: '', line}
  // Anything else carrying protocol 112 (a hostile packet the decoder rejects) still counts.
  const other = /^(\d+\.\d+) IP (\S+) > (\S+): /.exec(line)
  if (other && /VRRP|ip-proto-112/.test(line)) return {t: Number(other[1]), kind: 'vrrp', src: other[2]!, dst: other[3]!.replace(/:$/, ''), line}
  return undefined
}

/** A daemon running in a router namespace. */
export class Daemon {
  output = ''
  readonly exited: Promise<number | null>

  constructor(
    readonly kind: 'kaopsd' | 'keepalived',
    readonly ns: string,
    readonly child: ChildProcess,
    readonly configFile: string,
    readonly controlSocket: string,
  ) {
    child.stdout?.on('data', (d) => (this.output += d))
    child.stderr?.on('data', (d) => (this.output += d))
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)))
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Every pid in the namespace: keepalived forks its VRRP child, and kaopsd runs scripts. */
  pids(): number[] {
    const r = spawnSync('ip', ['netns', 'pids', this.ns], {encoding: 'utf8'})
    return r.stdout.split(/\s+/).filter(Boolean).map(Number)
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig)
  }

  /** A hard failure: SIGKILL to the daemon and anything it forked (keepalived's VRRP child). */
  async kill(): Promise<void> {
    // Freeze them all first: keepalived's VRRP child asks for SIGTERM when its parent dies and
    // would then send priority 0, turning a hard failure into a graceful one.
    const pids = this.pids()
    for (const sig of ['SIGSTOP', 'SIGKILL'] as const) {
      for (const pid of pids) {
        try {
          process.kill(pid, sig)
        } catch {
          // already gone
        }
      }
    }
    await Promise.race([this.exited, sleep(3000)])
  }

  /** Graceful stop (SIGTERM: priority 0, release); resolves with the exit code. */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    this.signal('SIGTERM')
    const code = await Promise.race([this.exited, sleep(timeoutMs).then(() => 'timeout' as const)])
    if (code === 'timeout') {
      await this.kill()
      throw new Error(`${this.kind} in ${this.ns} did not stop within ${timeoutMs} ms:\n${this.output.slice(-2000)}`)
    }
    return code
  }

  writeConfig(text: string): void {
    writeFileSync(this.configFile, text)
  }

  async status(): Promise<KaopsdStatus> {
    if (this.kind !== 'kaopsd') throw new Error('status is a kaopsd question')
    return (await askControlSocket(this.controlSocket, 'status', 3000)) as KaopsdStatus
  }

  async instance(name = 'VI_1'): Promise<VrrpInstanceStatus> {
    const s = await this.status()
    const i = s.instances.find((x) => x.name === name)
    if (!i) throw new Error(`no instance ${name} in ${this.ns}: ${s.instances.map((x) => x.name).join(',')}`)
    return i
  }

  /** Waits for an instance's state (kaopsd: status; keepalived: its log line). */
  async waitState(state: 'MASTER' | 'BACKUP' | 'FAULT', timeoutMs = 10_000, name = 'VI_1'): Promise<void> {
    try {
      if (this.kind === 'kaopsd') {
        await waitFor(`${name} in ${this.ns} to be ${state}`, async () => (await this.instance(name)).state === state, timeoutMs)
      } else {
        await waitFor(`keepalived ${name} in ${this.ns} to be ${state}`, () => this.lastKeepalivedState(name) === state, timeoutMs)
      }
    } catch (err) {
      // The daemon's own log is what explains a missed state: put its tail in the failure.
      throw new Error(`${String(err)}\n--- ${this.kind} log (tail):\n${this.output.slice(-1500)}`)
    }
  }

  /**
   * Runs `kaopsd takeover ARGS... --control-socket SOCK --json` in the daemon's namespace, as
   * kaops apply does over SSH; resolves with its exit code and output (the JSON parsed on exit 0).
   */
  async takeoverCli(args: string[]): Promise<{code: number | null; stdout: string; stderr: string; answer?: TakeoverAnswer}> {
    if (this.kind !== 'kaopsd') throw new Error('takeover is a kaopsd command')
    const child = spawn('ip', ['netns', 'exec', this.ns, KAOPSD, 'takeover', ...args, '--control-socket', this.controlSocket, '--json'], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)))
    return code === 0 ? {code, stdout, stderr, answer: JSON.parse(stdout) as TakeoverAnswer} : {code, stdout, stderr}
  }

  /** The last "(NAME) Entering X STATE" keepalived logged. */
  lastKeepalivedState(name = 'VI_1'): string | undefined {
    const re = new RegExp(`\\(${name}\\) Entering (\\w+) STATE`, 'g')
    let last: string | undefined
    for (const m of this.output.matchAll(re)) last = m[1]
    return last
  }
}

export interface SegmentOptions {
  /** First three octets of the segment's /24, e.g. "198.18.40". */
  prefix: string
  routers: number
  client?: boolean
}

/**
 * The segment. Router i (0-based) is `eth0` at PREFIX.(11+i) in namespace `${tag}-r${i}`; the
 * client is PREFIX.200; bridge port `p${i}` (client: `pc`) in `${tag}-br`.
 */
export class VrrpSegment {
  readonly tag = `kv-${randomBytes(3).toString('hex')}`
  readonly dir = mkdtempSync(join(tmpdir(), 'kaops-vrrp-'))
  readonly brNs = `${this.tag}-br`
  readonly clientNs = `${this.tag}-c`
  readonly namespaces: string[] = []
  readonly #daemons = new Set<Daemon>()
  readonly #children = new Set<ChildProcess>()

  private constructor(readonly opts: SegmentOptions) {}

  static create(opts: SegmentOptions): VrrpSegment {
    const seg = new VrrpSegment(opts)
    try {
      seg.#build()
    } catch (err) {
      seg.destroy()
      throw err
    }
    return seg
  }

  routerNs(i: number): string {
    return `${this.tag}-r${i}`
  }

  address(i: number): string {
    return `${this.opts.prefix}.${11 + i}`
  }

  get clientAddress(): string {
    return `${this.opts.prefix}.200`
  }

  vip(n = 100): string {
    return `${this.opts.prefix}.${n}`
  }

  #addNs(ns: string): void {
    run('ip', ['netns', 'add', ns])
    this.namespaces.push(ns)
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
  }

  #build(): void {
    this.#addNs(this.brNs)
    run('ip', ['-n', this.brNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0', 'forward_delay', '0', 'stp_state', '0'])
    run('ip', ['-n', this.brNs, 'link', 'set', 'br0', 'up'])
    const ends: [string, string][] = []
    for (let i = 0; i < this.opts.routers; i++) ends.push([this.routerNs(i), `p${i}`])
    if (this.opts.client) ends.push([this.clientNs, 'pc'])
    for (const [ns, port] of ends) {
      this.#addNs(ns)
      run('ip', ['link', 'add', `${this.tag}${port}`, 'netns', this.brNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
      run('ip', ['-n', this.brNs, 'link', 'set', `${this.tag}${port}`, 'name', port])
      run('ip', ['-n', this.brNs, 'link', 'set', port, 'master', 'br0', 'up'])
      const addr = ns === this.clientNs ? this.clientAddress : this.address(Number(port.slice(1)))
      run('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'])
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
    }
  }

  /** Takes router i's bridge port down (or up): its eth0 loses carrier, as with a pulled cable. */
  setPort(i: number, up: boolean): void {
    run('ip', ['-n', this.brNs, 'link', 'set', `p${i}`, up ? 'up' : 'down'])
  }

  /**
   * Stops (or resumes) forwarding on router i's bridge port while its link stays up: the
   * network between the routers fails but neither sees its own interface go down, which is
   * what makes a split brain (a carrier loss is a FAULT instead).
   */
  setForwarding(i: number, on: boolean): void {
    run('bridge', ['-n', this.brNs, 'link', 'set', 'dev', `p${i}`, 'state', on ? '3' : '0'])
  }

  /** The IPv4 addresses on eth0 in a router namespace (`ip -n NS -br addr`). */
  addresses(i: number): string[] {
    const out = run('ip', ['-n', this.routerNs(i), '-4', '-br', 'addr', 'show', 'dev', 'eth0'])
    return out.trim().split(/\s+/).slice(2).map((a) => a.replace(/\/\d+$/, ''))
  }

  /**
   * Samples which routers hold an address, as fast as `ip` answers, until stopped. Each sample
   * reads the routers in `order`: put the one that holds it now first, so that a handover to a
   * later one can never look like a gap (read first, it still has it or the later one already
   * does) — only a real gap shows as an empty sample.
   */
  sampleHolders(address: string, order: number[]): {stop: () => Promise<number[][]>} {
    const samples: number[][] = []
    let running = true
    const loop = (async () => {
      while (running) {
        samples.push(order.filter((i) => this.addresses(i).includes(address)))
        await new Promise((r) => setImmediate(r))
      }
    })()
    return {
      stop: async () => {
        running = false
        await loop
        return samples
      },
    }
  }

  /** Which routers hold an address now. */
  holders(address: string): number[] {
    const out: number[] = []
    for (let i = 0; i < this.opts.routers; i++) if (this.addresses(i).includes(address)) out.push(i)
    return out
  }

  #files(kind: string, i: number) {
    const base = join(this.dir, `${kind}-r${i}-${randomBytes(2).toString('hex')}`)
    return {conf: `${base}.conf`, sock: `${base}.sock`, pid: `${base}.pid`}
  }

  #spawn(ns: string, argv: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], {stdio: ['ignore', 'pipe', 'pipe']})
    this.#children.add(child)
    child.once('exit', () => this.#children.delete(child))
    return child
  }

  /** Starts kaopsd in router i with this configuration; resolves once its control socket answers. */
  async startKaopsd(i: number, config: string): Promise<Daemon> {
    const f = this.#files('kaopsd', i)
    writeFileSync(f.conf, config)
    const child = this.#spawn(this.routerNs(i), [KAOPSD, '-n', '-l', '-D', '-f', f.conf, '--control-socket', f.sock])
    const d = new Daemon('kaopsd', this.routerNs(i), child, f.conf, f.sock)
    this.#daemons.add(d)
    await waitFor(`kaopsd in ${d.ns} to answer`, async () => {
      if (!d.running) throw new Error(`kaopsd exited: ${d.output.slice(-2000)}`)
      return (await d.status()).instances.length >= 0
    })
    return d
  }

  /** Starts keepalived 2.2 (VRRP only, foreground, console log) in router i. */
  async startKeepalived(i: number, config: string): Promise<Daemon> {
    const f = this.#files('keepalived', i)
    writeFileSync(f.conf, config)
    const child = this.#spawn(this.routerNs(i), [
      KEEPALIVED, '-n', '-l', '-D', '-P', '-f', f.conf,
      '-p', f.pid, '-r', `${f.pid}.vrrp`, '-c', `${f.pid}.check`,
    ])
    const d = new Daemon('keepalived', this.routerNs(i), child, f.conf, '')
    this.#daemons.add(d)
    await waitFor(`keepalived in ${d.ns} to start its instances`, () => {
      if (!d.running) throw new Error(`keepalived exited: ${d.output.slice(-2000)}`)
      return /Entering (BACKUP|MASTER|FAULT) STATE/.test(d.output)
    })
    return d
  }

  /** tcpdump on br0: every VRRP advert and ARP frame, with microsecond timestamps. */
  async capture(): Promise<Capture> {
    // No -p: promiscuous mode is what makes br0 pass up the frames it forwards between ports.
    const real = this.#spawn(this.brNs, ['tcpdump', '-i', 'br0', '-tt', '-n', '-l', 'proto', '112', 'or', 'arp'])
    const cap = new Capture(real)
    let err = ''
    real.stderr!.on('data', (d) => (err += d))
    await waitFor(`tcpdump on br0 to listen: ${err}`, () => /listening on/.test(err), 5000, 20)
    return cap
  }

  /** Pings dst from the client every intervalMs until stopped; resolves with sent/received. */
  ping(dst: string, intervalMs = 10): {stop: () => Promise<{sent: number; received: number; lost: number}>} {
    const child = this.#spawn(this.clientNs, ['ping', '-n', '-i', String(intervalMs / 1000), '-W', '1', dst])
    let out = ''
    child.stdout!.on('data', (d) => (out += d))
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    return {
      stop: async () => {
        child.kill('SIGINT')
        await Promise.race([exited, sleep(3000)])
        const m = /(\d+) packets transmitted, (\d+) received/.exec(out)
        if (!m) throw new Error(`no ping summary: ${out.slice(-500)}`)
        const sent = Number(m[1])
        const received = Number(m[2])
        return {sent, received, lost: sent - received}
      },
    }
  }

  /** Runs a command in a namespace and waits for it (python3 for hostile packets, etc.). */
  exec(ns: string, argv: string[], input?: string): string {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], {encoding: 'utf8', input})
    if (r.status !== 0) throw new Error(`${argv.join(' ')} in ${ns}: exit ${r.status ?? r.signal}: ${r.stderr}`)
    return r.stdout
  }

  /** Kills what is left of every daemon and child, deletes the namespaces and the temp dir. */
  destroy(): void {
    for (const ns of this.namespaces) {
      const r = spawnSync('ip', ['netns', 'pids', ns], {encoding: 'utf8'})
      for (const pid of (r.stdout ?? '').split(/\s+/).filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone already
        }
      }
    }
    for (const c of this.#children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    for (const ns of [...this.namespaces].reverse()) spawnSync('ip', ['netns', 'del', ns], {stdio: 'ignore'})
    rmSync(this.dir, {recursive: true, force: true})
  }
}
