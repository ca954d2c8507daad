// The remote layer against a REAL OpenSSH sshd, started in its own network namespace with a
// 198.19.x address (RFC 2544 range, routed nowhere), a generated host key and authorized key.
// Needs root, `ip netns` and /usr/sbin/sshd (openssh-server); skipped otherwise.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {connect as tcpConnect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {DesiredHost, SshTarget} from '../../src/model/desired-state.js'
import {KaopsError} from '../../src/model/errors.js'
import {ExitCode} from '../../src/model/exit-codes.js'
import {RemoteHost} from '../../src/remote/connection.js'
import {gatherActualState} from '../../src/remote/gather.js'
import {computePlan} from '../../src/plan/compute.js'
import {isPlanStale} from '../../src/plan/fingerprint.js'

const SSHD = '/usr/sbin/sshd'
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, {stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8'})

function whyCannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespace)'
  if (!existsSync(SSHD)) return `${SSHD} missing (apt-get install openssh-server; scripts/install-deps.sh does it)`
  try {
    sh('ip', ['netns', 'list'])
    sh('ssh-keygen', ['-?'])
  } catch (error) {
    const e = error as {code?: string}
    if (e.code === 'ENOENT') return 'ip or ssh-keygen missing'
  }
  return undefined
}

async function waitForPort(host: string, port: number, ms: number): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect({host, port})
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`sshd did not listen on ${host}:${port} within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

test('remote layer against a real sshd in a netns', async (t) => {
  const why = whyCannotRun()
  if (why) {
    t.skip(why)
    return
  }
  const id = process.pid % 10_000
  const ns = `kaops-ssh-${id}`
  const vethHost = `kssh${id}a`
  const vethNs = `kssh${id}b`
  const octet = 200 + (process.pid % 50)
  const hostIp = `198.19.${octet}.1`
  const nsIp = `198.19.${octet}.2`
  const port = 2222
  const dir = await mkdtemp(join(tmpdir(), 'kaops-sshd-'))
  let sshd: ChildProcess | undefined
  let sshdLog = ''
  try {
    sh('ip', ['netns', 'add', ns])
    sh('ip', ['link', 'add', vethHost, 'type', 'veth', 'peer', 'name', vethNs])
    sh('ip', ['link', 'set', vethNs, 'netns', ns])
    sh('ip', ['addr', 'add', `${hostIp}/30`, 'dev', vethHost])
    sh('ip', ['link', 'set', vethHost, 'up'])
    sh('ip', ['-n', ns, 'addr', 'add', `${nsIp}/30`, 'dev', vethNs])
    sh('ip', ['-n', ns, 'link', 'set', vethNs, 'up'])
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])

    for (const k of ['host_key', 'other_host_key', 'client_key']) sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', join(dir, k)])
    const hostPub = (await readFile(join(dir, 'host_key.pub'), 'utf8')).trim().split(' ').slice(0, 2).join(' ')
    const otherPub = (await readFile(join(dir, 'other_host_key.pub'), 'utf8')).trim().split(' ').slice(0, 2).join(' ')
    await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')))
    await writeFile(
      join(dir, 'sshd_config'),
      [
        `ListenAddress ${nsIp}:${port}`,
        `HostKey ${join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        // The temp dir is not root-only all the way up: relax the ownership checks for it.
        'StrictModes no',
        'AllowTcpForwarding yes',
        '',
      ].join('\n'),
    )
    execFileSync('mkdir', ['-p', '/run/sshd']) // sshd's privilege separation directory
    sshd = spawn('ip', ['netns', 'exec', ns, SSHD, '-D', '-e', '-f', join(dir, 'sshd_config')], {stdio: ['ignore', 'ignore', 'pipe']})
    sshd.stderr!.on('data', (d: Buffer) => (sshdLog += d.toString()))
    await waitForPort(nsIp, port, 10_000)

    // Known-hosts files: right key (plain and hashed), wrong key, no entry for this host.
    const kh = {
      right: join(dir, 'kh_right'),
      hashed: join(dir, 'kh_hashed'),
      wrong: join(dir, 'kh_wrong'),
      none: join(dir, 'kh_none'),
    }
    await writeFile(kh.right, `[${nsIp}]:${port} ${hostPub}\n`)
    await writeFile(kh.hashed, `[${nsIp}]:${port} ${hostPub}\n`)
    sh('ssh-keygen', ['-H', '-f', kh.hashed])
    await writeFile(kh.wrong, `[${nsIp}]:${port} ${otherPub}\n`)
    await writeFile(kh.none, `${nsIp} ${hostPub}\n[198.19.${octet}.3]:${port} ${hostPub}\n`)

    const target = (knownHosts: string, extra: Partial<SshTarget> = {}): SshTarget => ({
      name: 'lab-ssh',
      host: nsIp,
      port,
      user: 'root',
      identityFile: join(dir, 'client_key'),
      knownHosts,
      sudo: false,
      ...extra,
    })

    await t.test('the right host key: exec (stdout, stderr, exit code, stdin) and atomic upload', async () => {
      const h = await RemoteHost.connect(target(kh.right), {connectTimeoutMs: 5000})
      try {
        const r = await h.exec('echo out; echo err >&2; exit 3')
        assert.deepEqual([r.stdout, r.stderr, r.code], ['out\n', 'err\n', 3])
        const c = await h.exec('cat', {stdin: 'from stdin\n'})
        assert.equal(c.stdout, 'from stdin\n')
        const addr = await h.exec('ip -o -4 addr show')
        assert.match(addr.stdout, new RegExp(`${nsIp.replace(/\./g, '\\.')}/30`), 'the command ran inside the netns')
        const path = join(dir, 'up', 'sub', 'file with space.conf')
        const up = await h.upload(path, 'hello\n', 0o640)
        assert.equal(await readFile(path, 'utf8'), 'hello\n')
        assert.equal((await stat(path)).mode & 0o777, 0o640)
        assert.match(up.sha256, /^[0-9a-f]{64}$/)
        await h.upload(path, 'replaced\n', 0o600)
        assert.equal(await readFile(path, 'utf8'), 'replaced\n')
        const leftovers = await h.exec(`ls -A '${join(dir, 'up', 'sub')}'`)
        assert.equal(leftovers.stdout, 'file with space.conf\n', 'no temp files left behind')
      } finally {
        h.close()
      }
    })

    await t.test('hashed known_hosts entries are accepted; a jump host works', async () => {
      const h = await RemoteHost.connect(target(kh.hashed), {connectTimeoutMs: 5000})
      try {
        assert.equal((await h.exec('echo ok')).stdout, 'ok\n')
      } finally {
        h.close()
      }
      const viaJump = await RemoteHost.connect(target(kh.right, {name: 'behind-jump', jumpHost: target(kh.hashed, {name: 'jump'})}), {connectTimeoutMs: 5000})
      try {
        assert.equal((await viaJump.exec('echo jumped')).stdout, 'jumped\n')
      } finally {
        viaJump.close()
      }
    })

    await t.test('a wrong host key is refused, naming the host and the file', async () => {
      await assert.rejects(RemoteHost.connect(target(kh.wrong), {connectTimeoutMs: 5000}), (e: unknown) => {
        assert.ok(e instanceof KaopsError)
        assert.equal(e.exit, ExitCode.unreachable)
        assert.match(e.message, /host key of lab-ssh .* does not match/)
        assert.ok(e.message.includes(kh.wrong))
        return true
      })
    })

    await t.test('no known_hosts entry is refused (never trust on first use)', async () => {
      await assert.rejects(RemoteHost.connect(target(kh.none), {connectTimeoutMs: 5000}), (e: unknown) => {
        assert.ok(e instanceof KaopsError)
        assert.equal(e.exit, ExitCode.unreachable)
        assert.match(e.message, /lab-ssh .* has no entry in /)
        assert.ok(e.message.includes(kh.none))
        return true
      })
    })

    await t.test('the state probe runs in one round trip and parses; an unreachable host does not stop the others', async () => {
      const file = join(dir, 'up', 'sub', 'file with space.conf')
      const desired = (name: string, ssh: SshTarget): DesiredHost => ({
        name,
        address: nsIp,
        roles: ['real-server'],
        ssh,
        files: [
          {path: file, content: 'replaced\n', mode: 0o600},
          {path: join(dir, 'absent.conf'), content: 'x\n', mode: 0o644},
        ],
        sysctl: [{key: 'net.ipv4.ip_forward', value: '1'}],
        units: [],
        loopbackVips: [],
        vips: [],
      })
      const hosts = [desired('lab-ssh', target(kh.right)), desired('closed-port', {...target(kh.right), name: 'closed-port', port: port + 1})]
      const actual = await gatherActualState(hosts, {parallel: 2, connectTimeoutMs: 5000})
      const a = actual.get('lab-ssh')
      assert.ok(a && !(a instanceof Error), `probe failed: ${a instanceof Error ? a.message : ''}`)
      assert.equal(a.files[0]!.exists, true)
      assert.equal(a.files[0]!.content, 'replaced\n')
      assert.equal(a.files[0]!.mode, 0o600)
      assert.equal(a.files[1]!.exists, false)
      assert.match(a.sysctl[0]!.value ?? '', /^[01]$/)
      assert.ok(a.addresses.some((x) => x.cidr === `${nsIp}/30`), JSON.stringify(a.addresses))
      const closed = actual.get('closed-port')
      assert.ok(closed instanceof KaopsError)
      assert.match(closed.message, /host closed-port .*ECONNREFUSED/)
      // End to end: the plan over what was read names the unreachable host and plans the other.
      const plan = computePlan(hosts, actual)
      assert.deepEqual(plan.errors.map((e) => e.host), ['closed-port'])
      const byId = new Map(plan.hosts[0]!.changes.map((c) => [c.id, c.action]))
      assert.equal(byId.get(file), 'no-op')
      assert.equal(byId.get(join(dir, 'absent.conf')), 'create')
      assert.equal(isPlanStale(plan, await gatherActualState(hosts.slice(0, 1), {connectTimeoutMs: 5000})), false)
    })
  } finally {
    if (sshd && sshd.exitCode === null) {
      sshd.kill('SIGTERM')
      await new Promise((r) => setTimeout(r, 100))
    }
    try {
      const pid = Number((await readFile(join(dir, 'sshd.pid'), 'utf8')).trim())
      if (pid > 0) process.kill(pid, 'SIGTERM')
    } catch {
      /* already gone */
    }
    for (const args of [['link', 'del', vethHost], ['netns', 'del', ns]]) {
      try {
        sh('ip', args)
      } catch {
        /* already gone */
      }
    }
    await rm(dir, {recursive: true, force: true})
    if (process.env.KAOPS_TEST_DEBUG) console.error(sshdLog)
  }
})
