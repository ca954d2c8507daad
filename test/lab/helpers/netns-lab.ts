// Network namespaces a test creates, wired like hosts on switches: every bridge lives in a
// private "switch" namespace, and each host namespace gets veths whose other end is a port on
// one of those bridges. Nothing on this machine's own network is touched; the caller picks
// addresses in 198.18.0.0/15, routed nowhere. Used by the load-balancing lab tests, which need
// several segments and several interfaces per host (VrrpSegment in vrrp-net.ts is the one-bridge
// VRRP case). Cleanup is always complete: every process in the namespaces is killed by pid and
// every namespace created is deleted.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {whyNotHere} from './preconditions.js'
import {Daemon, KAOPSD, waitFor} from './vrrp-net.js'

/** Why a namespace lab cannot run here (not root, ip or another command missing, no netns), or undefined when it can. */
export function whyNoNetnsLab(commands: string[]): string | undefined {
  const why = whyNotHere('network namespaces', ['ip', ...commands])
  if (why) return why
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'ip netns does not work here'
  return undefined
}

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, {encoding: 'utf8', input})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`)
  return r.stdout
}

/** A tiny HTTP server on port 80 answering every request with its own name and a newline. */
const nameServerSource = `
const http = require('node:http')
const name = process.argv[1]
http.createServer((req, res) => res.end(name + '\\n')).listen(80, '0.0.0.0', () => console.log('listening'))
`

export class NetnsLab {
  readonly tag = `kn-${randomBytes(3).toString('hex')}`
  readonly switchNs = `${this.tag}-sw`
  readonly namespaces: string[] = []
  readonly #children = new Set<ChildProcess>()
  #dir: string | undefined

  private constructor() {}

  /** The switch namespace and its bridges; add hosts with host(), wire them with attach(). */
  static create(bridges: string[]): NetnsLab {
    const lab = new NetnsLab()
    try {
      lab.#addNs(lab.switchNs)
      for (const br of bridges) {
        run('ip', ['-n', lab.switchNs, 'link', 'add', br, 'type', 'bridge'])
        run('ip', ['-n', lab.switchNs, 'link', 'set', br, 'up'])
      }
    } catch (err) {
      lab.destroy()
      throw err
    }
    return lab
  }

  #addNs(ns: string): void {
    run('ip', ['netns', 'add', ns])
    this.namespaces.push(ns)
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
  }

  /** A new host namespace (loopback up, no other link yet); returns its name. */
  host(name: string): string {
    const ns = `${this.tag}-${name}`
    this.#addNs(ns)
    return ns
  }

  /**
   * A veth from host namespace `ns` (named `ifname` there, with `cidr`, up) to `bridge`, where
   * its end is the port `port` (unique per lab, at most 15 characters).
   */
  attach(ns: string, bridge: string, ifname: string, cidr: string, port: string): void {
    run('ip', ['-n', this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns])
    run('ip', ['-n', this.switchNs, 'link', 'set', port, 'master', bridge, 'up'])
    run('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', ifname])
    run('ip', ['-n', ns, 'link', 'set', ifname, 'up'])
  }

  /** `ip -n NS ARGS...`. */
  ip(ns: string, ...args: string[]): string {
    return run('ip', ['-n', ns, ...args])
  }

  /** Runs a command in a namespace and waits for it; throws on a non-zero exit. */
  exec(ns: string, argv: string[], input?: string): string {
    return run('ip', ['netns', 'exec', ns, ...argv], input)
  }

  /** Starts a command in a namespace (stdout and stderr piped); destroy() kills it if it is still running. */
  spawn(ns: string, argv: string[], opts: {stdin?: boolean} = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], {stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe']})
    this.#children.add(child)
    child.once('exit', () => this.#children.delete(child))
    return child
  }

  /** A node HTTP server on port 80 in `ns` answering `name`; resolves once it listens. */
  async startNameServer(ns: string, name: string): Promise<ChildProcess> {
    const child = this.spawn(ns, [process.execPath, '-e', nameServerSource, name])
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += d))
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`web server ${name} in ${ns} exited ${code}: ${stderr.trim()}`)))
      child.stdout!.once('data', () => resolve())
    })
    return child
  }

  /** Starts dist/kaopsd in `ns` with this configuration; resolves once its control socket answers. */
  async startKaopsd(ns: string, name: string, config: string): Promise<Daemon> {
    this.#dir ??= mkdtempSync(join(tmpdir(), 'kaops-netns-'))
    const conf = join(this.#dir, `${name}.conf`)
    const sock = join(this.#dir, `${name}.sock`)
    writeFileSync(conf, config)
    const d = new Daemon('kaopsd', ns, this.spawn(ns, [KAOPSD, '-n', '-l', '-D', '-f', conf, '--control-socket', sock]), conf, sock)
    await waitFor(`kaopsd in ${ns} to answer`, async () => {
      if (!d.running) throw new Error(`kaopsd exited: ${d.output.slice(-2000)}`)
      return (await d.status()).pid > 0
    })
    return d
  }

  /** Kills every process left in the namespaces and every child, deletes the namespaces and the temp dir. */
  destroy(): void {
    removeNamespaces(this.namespaces, this.#children)
    if (this.#dir) rmSync(this.#dir, {recursive: true, force: true})
  }
}

/**
 * Kills every process inside the namespaces (by pid: `ip netns pids`) and what is left of the
 * children started into them, then deletes the namespaces, last created first.
 */
export function removeNamespaces(namespaces: readonly string[], children: Iterable<ChildProcess> = []): void {
  for (const ns of namespaces) {
    const r = spawnSync('ip', ['netns', 'pids', ns], {encoding: 'utf8'})
    for (const pid of (r.stdout ?? '').split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone already
      }
    }
  }
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const ns of [...namespaces].reverse()) spawnSync('ip', ['netns', 'del', ns], {stdio: 'ignore'})
}

/** SIGKILLs a child and waits for its exit (a server that must be gone before the next step). */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise((r) => child.once('exit', r))
  child.kill('SIGKILL')
  await gone
}
