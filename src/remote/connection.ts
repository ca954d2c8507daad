/**
 * One SSH connection to one host (ssh2), with strict host-key checking, optional jump host and
 * sudo. The remote layer never prints: it returns data or throws KaopsError. Nothing it sends
 * on stdin (file contents, secrets) ever appears in an error message.
 */
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {Client, type ClientChannel, type ConnectConfig} from 'ssh2'
import type {Duplex} from 'node:stream'
import type {SshTarget} from '../model/desired-state.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {hostKeyAlgorithms, parseKnownHosts, verifyHostKey} from './known-hosts.js'
import {shq} from './shell-quote.js'

export interface ConnectOptions {
  /** Whole handshake (TCP, key exchange, auth) must finish within this. Default 10 s. */
  connectTimeoutMs?: number
  /** Keepalive probe interval; the connection drops after `keepaliveCountMax` missed. Default 5 s x 3. */
  keepaliveIntervalMs?: number
  keepaliveCountMax?: number
}

export interface ExecOptions {
  stdin?: string | Buffer
  /** Run through sudo when the login user is not root and the target allows sudo. Default true. */
  privileged?: boolean
  /** Abort the command (close its channel) after this long. */
  timeoutMs?: number
}

export interface ExecResult {
  stdout: string
  stderr: string
  /** Exit status; null when the command was killed by a signal. */
  code: number | null
  signal?: string
}

/**
 * The command line sent for `command`: through `sudo -n` (never prompting: a password prompt
 * would hang a rollout) when the login user is not root and the target allows sudo.
 */
export function commandLine(target: Pick<SshTarget, 'user' | 'sudo'>, command: string, privileged: boolean): string {
  return privileged && target.user !== 'root' && target.sudo ? `sudo -n sh -c ${shq(command)}` : command
}

export function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? homedir() + p.slice(1) : p
}

function unreachable(target: SshTarget, what: string, cause?: unknown): KaopsError {
  return new KaopsError(`host ${target.name} (${target.user}@${target.host}:${target.port}): ${what}`, {
    exit: ExitCode.unreachable,
    place: {host: target.name},
    cause,
    suggestions: [`check that ${target.host}:${target.port} runs sshd and that the key for ${target.user} is authorised`],
  })
}

async function buildConfig(target: SshTarget, opts: ConnectOptions, onHostKeyError: (m: string) => void): Promise<ConnectConfig> {
  const khFile = expandHome(target.knownHosts)
  let khText: string
  try {
    khText = await readFile(khFile, 'utf8')
  } catch (error) {
    throw new KaopsError(`host ${target.name}: cannot read known_hosts file ${khFile}: ${(error as Error).message}`, {
      exit: ExitCode.unreachable,
      place: {host: target.name},
      suggestions: ['kaops checks host keys strictly; add the host keys with ssh-keyscan after verifying them out of band'],
    })
  }
  let entries
  try {
    entries = parseKnownHosts(khText, khFile)
  } catch (error) {
    throw new KaopsError(`host ${target.name}: ${(error as Error).message}`, {exit: ExitCode.unreachable})
  }
  const known = entries.filter((e) => e.marker === undefined && verifyHostKey([e], target.host, target.port, e.key, khFile).ok)
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    readyTimeout: opts.connectTimeoutMs ?? 10_000,
    keepaliveInterval: opts.keepaliveIntervalMs ?? 5_000,
    keepaliveCountMax: opts.keepaliveCountMax ?? 3,
    hostVerifier: (key: Buffer) => {
      const verdict = verifyHostKey(entries, target.host, target.port, key, khFile, target.name)
      if (!verdict.ok) onHostKeyError(verdict.message)
      return verdict.ok
    },
  }
  // Ask only for key types we can check, so a host with an ed25519 entry is not refused for
  // offering its RSA key first. No entry at all: leave the default and let the verifier refuse.
  if (known.length > 0) {
    config.algorithms = {serverHostKey: hostKeyAlgorithms(known.map((e) => e.keyType)) as never}
  }
  if (target.identityFile) {
    const idFile = expandHome(target.identityFile)
    try {
      config.privateKey = await readFile(idFile)
    } catch (error) {
      throw new KaopsError(`host ${target.name}: cannot read identity file ${idFile}: ${(error as Error).message}`, {exit: ExitCode.error})
    }
  }
  if (target.agent || !target.identityFile) {
    if (process.env.SSH_AUTH_SOCK) config.agent = process.env.SSH_AUTH_SOCK
    else if (!target.identityFile) {
      throw new KaopsError(`host ${target.name}: no identity file and no SSH agent (SSH_AUTH_SOCK is not set)`, {exit: ExitCode.error})
    }
  }
  return config
}

function openClient(target: SshTarget, config: ConnectConfig, hostKeyError: () => string | undefined): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client()
    let settled = false
    client.once('ready', () => {
      settled = true
      resolve(client)
    })
    client.once('error', (error: Error & {level?: string; code?: string}) => {
      if (settled) return
      settled = true
      client.end()
      const hk = hostKeyError()
      if (hk) {
        reject(
          new KaopsError(hk, {
            exit: ExitCode.unreachable,
            place: {host: target.name},
            cause: error,
            suggestions: [`verify ${target.name}'s host key out of band, then fix ${expandHome(target.knownHosts)}`],
          }),
        )
        return
      }
      const what =
        error.level === 'client-authentication'
          ? `authentication failed for user ${target.user}`
          : error.level === 'client-timeout' || /Timed out/i.test(error.message)
            ? `connection timed out`
            : `unreachable: ${error.code ?? error.message}`
      reject(unreachable(target, what, error))
    })
    client.connect(config)
  })
}

export class RemoteHost {
  private constructor(
    readonly target: SshTarget,
    private readonly client: Client,
    private readonly jump?: RemoteHost,
  ) {}

  /** Connect (through the jump host when one is set) with strict host-key checking. */
  static async connect(target: SshTarget, opts: ConnectOptions = {}): Promise<RemoteHost> {
    let hostKeyError: string | undefined
    const config = await buildConfig(target, opts, (m) => (hostKeyError = m))
    let jump: RemoteHost | undefined
    if (target.jumpHost) {
      jump = await RemoteHost.connect(target.jumpHost, opts)
      try {
        config.sock = await jump.forward(target.host, target.port)
      } catch (error) {
        jump.close()
        throw unreachable(target, `jump host ${target.jumpHost.name} could not reach it: ${(error as Error).message}`, error)
      }
    }
    try {
      const client = await openClient(target, config, () => hostKeyError)
      return new RemoteHost(target, client, jump)
    } catch (error) {
      jump?.close()
      throw error
    }
  }

  private forward(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)))
    })
  }

  /** Whether commands go through sudo on this host. */
  get usesSudo(): boolean {
    return this.target.user !== 'root' && this.target.sudo
  }

  /** Run a shell command; resolves with its output and exit code (non-zero is not an error). */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const full = commandLine(this.target, command, opts.privileged ?? true)
    return new Promise((resolve, reject) => {
      this.client.exec(full, (err, stream: ClientChannel) => {
        if (err) {
          reject(unreachable(this.target, `exec failed: ${err.message}`, err))
          return
        }
        const out: Buffer[] = []
        const errOut: Buffer[] = []
        let code: number | null = null
        let signal: string | undefined
        let timer: NodeJS.Timeout | undefined
        if (opts.timeoutMs) {
          timer = setTimeout(() => {
            stream.close()
            reject(new KaopsError(`host ${this.target.name}: command timed out after ${opts.timeoutMs} ms`, {exit: ExitCode.error}))
          }, opts.timeoutMs)
        }
        stream.on('data', (d: Buffer) => out.push(d))
        stream.stderr.on('data', (d: Buffer) => errOut.push(d))
        stream.on('exit', (c: number | null, s?: string) => {
          code = c
          signal = s
        })
        stream.on('close', () => {
          if (timer) clearTimeout(timer)
          resolve({stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), code, signal})
        })
        stream.on('error', (e: Error) => reject(unreachable(this.target, `channel error: ${e.message}`, e)))
        if (opts.stdin !== undefined) stream.end(opts.stdin)
        else stream.end()
      })
    })
  }

  /**
   * Write a file atomically: a temp file in the same directory, checked by sha256 on arrival,
   * chmod, then rename over the target. Goes through exec (not sftp) so sudo works the same.
   */
  async upload(path: string, content: string | Buffer, mode: number): Promise<{sha256: string}> {
    const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
    const sha256 = createHash('sha256').update(body).digest('hex')
    const p = shq(path)
    const script = [
      'set -e',
      'umask 077',
      `d=$(dirname -- ${p})`,
      'mkdir -p -- "$d"',
      't=$(mktemp "$d/.kaops-upload.XXXXXX")',
      `trap 'rm -f -- "$t"' EXIT`,
      'cat > "$t"',
      'sum=$(sha256sum < "$t")',
      `if [ "\${sum%% *}" != ${sha256} ]; then echo "sha256 mismatch on arrival" >&2; exit 3; fi`,
      `chmod ${mode.toString(8).padStart(4, '0')} "$t"`,
      `mv -f -- "$t" ${p}`,
      'trap - EXIT',
    ].join('\n')
    const r = await this.exec(script, {stdin: body})
    if (r.code !== 0) {
      throw new KaopsError(`host ${this.target.name}: upload of ${path} failed (exit ${r.code}): ${r.stderr.trim()}`, {exit: ExitCode.error})
    }
    return {sha256}
  }

  close(): void {
    this.client.end()
    this.jump?.close()
  }
}

/** Connect, run `fn`, always close. */
export async function withRemoteHost<R>(target: SshTarget, opts: ConnectOptions, fn: (h: RemoteHost) => Promise<R>): Promise<R> {
  const host = await RemoteHost.connect(target, opts)
  try {
    return await fn(host)
  } finally {
    host.close()
  }
}
