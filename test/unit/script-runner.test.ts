import {chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import type {ScriptCommand, ScriptUser} from '../../src/model/keepalived-config.js'
import {nodeHostEnv} from '../../src/daemon/config/host-env.js'
import {ScriptRunner} from '../../src/daemon/os/script-runner.js'

const dir = mkdtempSync(join(tmpdir(), 'kaops-scripts-'))
// Scripts may run as another user: they must be able to reach them.
chmodSync(dir, 0o755)
after(() => rmSync(dir, {recursive: true, force: true}))
const isRoot = process.getuid?.() === 0

function script(name: string, body: string, mode = 0o755): string {
  const path = join(dir, name)
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, mode)
  return path
}

function command(argv: string[], user?: ScriptUser): ScriptCommand {
  return {command: argv.join(' '), argv, source: {file: '/etc/keepalived/keepalived.conf', line: 7}, ...(user ? {user} : {})}
}

/** Gone, or a zombie whose parent (init here) has not reaped it yet: either way no longer running. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

const logs: string[] = []
const runner = (extra: Partial<ConstructorParameters<typeof ScriptRunner>[0]> = {}): ScriptRunner =>
  new ScriptRunner({enableScriptSecurity: false, scriptUser: {user: 'root'}, log: (s, m) => logs.push(`${s}: ${m}`), ...extra})

test('scripts queued under one key run in order and never overlap; other keys do not wait', async () => {
  const out = join(dir, 'order.log')
  const s = script('slow.sh', `echo "start $1" >> ${out}; sleep 0.15; echo "end $1" >> ${out}`)
  const r = runner()
  const t0 = Date.now()
  const results = await Promise.all([
    r.enqueue('INSTANCE:VI_1', command([s, 'a'])),
    r.enqueue('INSTANCE:VI_1', command([s, 'b'])),
    r.enqueue('INSTANCE:VI_1', command([s, 'c'])),
    r.enqueue('INSTANCE:VI_2', command([s, 'x'])),
  ])
  assert.deepEqual(results.map((x) => x.status), ['ok', 'ok', 'ok', 'ok'])
  const lines = readFileSync(out, 'utf8').trim().split('\n')
  const vi1 = lines.filter((l) => !l.endsWith(' x'))
  assert.deepEqual(vi1, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c'])
  // VI_2's script ran beside VI_1's first one, not after all three.
  assert.ok(lines.indexOf('start x') < lines.indexOf('end a'), lines.join(','))
  assert.ok(Date.now() - t0 >= 450)
  await r.idle()
})

test('a script gets only PATH, runs in /, and its arguments are never re-parsed by a shell', async () => {
  const out = join(dir, 'env.out')
  process.env['KAOPS_TEST_SECRET'] = 'leak'
  const s = script('env.sh', `env > ${out}; pwd >> ${out}; for a in "$@"; do echo "arg=$a" >> ${out}; done`)
  const res = await runner().run(command([s, '$HOME; touch /tmp/pwned', "it's"]), {extraArgs: ['INSTANCE', 'VI_1', 'MASTER', '100']})
  delete process.env['KAOPS_TEST_SECRET']
  assert.equal(res.status, 'ok', res.detail)
  const text = readFileSync(out, 'utf8')
  assert.match(text, /^PATH=\/usr\/local\/sbin:/m)
  assert.doesNotMatch(text, /KAOPS_TEST_SECRET|^HOME=/m)
  assert.match(text, /^\/$/m)
  assert.match(text, /arg=\$HOME; touch \/tmp\/pwned\narg=it's\narg=INSTANCE\narg=VI_1\narg=MASTER\narg=100/)
})

test('a script runs as the configured user and group', async (t) => {
  if (!isRoot) return t.skip('switching user needs root')
  const env = nodeHostEnv()
  if (!env.lookupUser('nobody') || !env.lookupGroup('nogroup')) return t.skip('no nobody/nogroup on this host')
  const outDir = join(dir, 'drop')
  mkdirSync(outDir, {mode: 0o777})
  chmodSync(outDir, 0o777)
  const out = join(outDir, 'id.out')
  const s = script('id.sh', `id -u > ${out}; id -g >> ${out}`)
  const res = await runner({enableScriptSecurity: true}).run(command([s], {user: 'nobody', group: 'nogroup'}))
  assert.equal(res.status, 'ok', res.detail)
  const [uid, gid] = readFileSync(out, 'utf8').trim().split('\n')
  assert.equal(uid, String(env.lookupUser('nobody')!.uid))
  assert.equal(gid, String(env.lookupGroup('nogroup')!.gid))
})

test('an unknown user is a clear refusal naming the config line', async () => {
  const s = script('noop.sh', 'true')
  const res = await runner().run(command([s], {user: 'no-such-user-kaops'}))
  assert.equal(res.status, 'refused')
  assert.match(res.detail, /keepalived\.conf:7.*user 'no-such-user-kaops' is not in \/etc\/passwd/)
})

test('with enable_script_security a group-writable script is refused and never runs', async (t) => {
  const out = join(dir, 'unsafe.out')
  const s = script('unsafe.sh', `echo ran > ${out}`)
  if (isRoot) {
    const nogroup = nodeHostEnv().lookupGroup('nogroup') ?? nodeHostEnv().lookupGroup('users')
    if (!nogroup) return t.skip('no non-root group to give the script to')
    chownSync(s, 0, nogroup.gid)
    chmodSync(s, 0o775)
  } else {
    // Without root we cannot hand the file to another group; world-writable breaks the same rule.
    chmodSync(s, 0o777)
  }
  const secure = await runner({enableScriptSecurity: true}).run(command([s]))
  assert.equal(secure.status, 'refused')
  assert.match(secure.detail, /refused by enable_script_security: .*unsafe\.sh' is writable by (group \d+|every user)/)
  assert.throws(() => readFileSync(out), /ENOENT/)
  // The same script runs when security is off (keepalived's default).
  const lax = await runner({enableScriptSecurity: false}).run(command([s]))
  assert.equal(lax.status, 'ok', lax.detail)
  assert.equal(readFileSync(out, 'utf8'), 'ran\n')
})

test('a script past its timeout is terminated, and one ignoring SIGTERM is killed with its children', async () => {
  const polite = script('polite.sh', 'sleep 5')
  const r = runner({killGraceMs: 300})
  const t0 = Date.now()
  const a = await r.run(command([polite]), {timeoutMs: 200})
  assert.equal(a.status, 'timeout')
  assert.equal(a.signal, 'SIGTERM')
  assert.ok(Date.now() - t0 < 1500)

  const pidFile = join(dir, 'child.pid')
  const stubborn = script('stubborn.sh', `trap '' TERM; sleep 30 & echo $! > ${pidFile}; while :; do sleep 0.05; done`)
  const t1 = Date.now()
  const b = await r.run(command([stubborn]), {timeoutMs: 200})
  assert.equal(b.status, 'timeout')
  assert.equal(b.signal, 'SIGKILL')
  assert.match(b.detail, /timed out after 200 ms/)
  const elapsed = Date.now() - t1
  assert.ok(elapsed >= 450 && elapsed < 2000, `took ${elapsed} ms`)
  // The background sleep was in the script's process group: gone too.
  const childPid = Number(readFileSync(pidFile, 'utf8'))
  await new Promise((res) => setTimeout(res, 100))
  assert.ok(!isAlive(childPid), `background child ${childPid} survived`)
})

test('a failing script reports its exit code and last stderr line; a missing program is refused', async () => {
  const s = script('fail.sh', 'echo "disk on fire" >&2; exit 3')
  const res = await runner().run(command([s]))
  assert.equal(res.status, 'failed')
  assert.equal(res.exitCode, 3)
  assert.match(res.detail, /exit 3: disk on fire/)
  const missing = await runner().run(command(['kaops-no-such-program']))
  assert.equal(missing.status, 'refused')
  assert.match(missing.detail, /'kaops-no-such-program' not found in \/usr\/local\/sbin/)
})

test('a long-running reader starts with its argument and stops with SIGTERM', async () => {
  const out = join(dir, 'reader.out')
  const s = script('reader.sh', `echo "$1" > ${out}; exec sleep 30`)
  const r = runner()
  const handle = r.startLongRunning(command([s]), ['/run/fifo'])
  assert.notEqual(typeof handle, 'string')
  if (typeof handle === 'string') return
  for (let i = 0; i < 50; i++) {
    try {
      if (readFileSync(out, 'utf8')) break
    } catch {
      // not yet
    }
    await new Promise((res) => setTimeout(res, 20))
  }
  assert.equal(readFileSync(out, 'utf8'), '/run/fifo\n')
  await handle.stop()
  assert.ok(!isAlive(handle.pid!))
})
