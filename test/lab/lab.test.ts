// `kaops lab` end to end on inventories/lab.yaml: up (building the base image if it is not
// cached), log in to every host with the real ssh client and strict host-key checking, a second
// `up` that changes nothing, then `down` leaving no namespace, link or nspawn process behind.
// Needs root, systemd-nspawn and debootstrap (scripts/install-deps.sh installs them).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {labDown, labStatus, labUp} from '../../src/lab/lab.js'
import {readLabSpec} from '../../src/lab/lab-spec.js'
import {labExec, labSshArgs, writeToHost} from '../../src/lab/host-access.js'
import {netnsName, vethName} from '../../src/lab/paths.js'
import {whyNotHere} from './helpers/preconditions.js'

const INVENTORY = 'inventories/lab.yaml'
const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})

const whyCannotRun = () => whyNotHere('network namespaces, mounts, containers', ['systemd-nspawn', 'debootstrap', 'ssh'])

/** Our nspawn processes still alive (zombies excluded: they are gone but for the reaping). */
function nspawnLeft(): string[] {
  return sh('ps', ['-eo', 'stat=,args='])
    .split('\n')
    .filter((l) => !l.trim().startsWith('Z') && /systemd-nspawn/.test(l) && /--machine=kaops-/.test(l))
}

test('kaops lab: up, ssh into every host, idempotent up, down leaves nothing', {timeout: 15 * 60_000}, async (t) => {
  const why = whyCannotRun()
  if (why) {
    t.skip(why)
    return
  }
  const spec = await readLabSpec(INVENTORY)
  const progress = (line: string): void => t.diagnostic(line)
  t.after(async () => {
    // Whatever failed above, take the lab down.
    await labDown(INVENTORY).catch(() => {})
  })

  const up = await labUp(INVENTORY, {progress})
  assert.equal(up.hosts.length, spec.hosts.length)
  t.diagnostic(`lab up: ${up.seconds.toFixed(1)} s (base image ${up.base.built ? 'built' : 'cached'})`)

  await t.test('every host answers over SSH with strict host-key checking', async () => {
    for (const host of spec.hosts) {
      const r = await labExec(spec, host.name, ['sh', '-c', 'hostname; ip -4 addr show eth0'])
      assert.equal(r.code, 0, `ssh to ${host.name}: ${r.stderr}`)
      const [hostname, ...addr] = r.stdout.split('\n')
      assert.equal(hostname, host.name)
      assert.match(addr.join('\n'), new RegExp(`inet ${host.cidr.replace(/\./g, '\\.')} `), `${host.name} has ${host.cidr} on eth0`)
    }
  })

  await t.test('a host key not in known_hosts is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kaops-lab-test-'))
    try {
      const empty = join(dir, 'known_hosts')
      await writeFile(empty, '')
      const args = labSshArgs(spec, spec.hosts[0]!.name).map((a) => (a.startsWith('UserKnownHostsFile=') ? `UserKnownHostsFile=${empty}` : a))
      let failed = false
      try {
        sh('ssh', [...args, 'true'])
      } catch (error) {
        failed = true
        assert.match(String((error as {stderr?: string}).stderr), /Host key verification failed|No .* host key is known/i)
      }
      assert.ok(failed, 'ssh with an empty known_hosts must fail')
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  await t.test('files go in over SSH; hosts reach each other by name on the bridge', async () => {
    const [a, b] = spec.hosts
    await writeToHost(spec, a!.name, 'hello from kaops\n', '/tmp/kaops-test/hello.txt', 0o600)
    const r = await labExec(spec, a!.name, ['sh', '-c', `stat -c %a /tmp/kaops-test/hello.txt && cat /tmp/kaops-test/hello.txt && ping -c1 -W2 ${b!.name} >/dev/null && echo ping-ok`])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '600\nhello from kaops\nping-ok\n')
  })

  const again = await labUp(INVENTORY, {progress})
  assert.equal(again.changed, false, 'a second up changes nothing')
  assert.ok(again.hosts.every((h) => h.action === 'unchanged'))

  const status = await labStatus(INVENTORY)
  assert.equal(status.ready, true)
  assert.ok(status.hosts.every((h) => h.running && h.sshd && h.created))

  const down = await labDown(INVENTORY)
  assert.ok(down.removed.length > 0)
  const netns = sh('ip', ['netns', 'list'])
  for (const host of spec.hosts) {
    assert.doesNotMatch(netns, new RegExp(`^${netnsName(host.name)}\\b`, 'm'), `netns ${netnsName(host.name)} left`)
    assert.equal(existsSync(`/sys/class/net/${vethName(host.name)}`), false, `link ${vethName(host.name)} left`)
  }
  assert.equal(existsSync(`/sys/class/net/${spec.bridge}`), false, `bridge ${spec.bridge} left`)
  assert.deepEqual(nspawnLeft(), [])
  const after = await labStatus(INVENTORY)
  assert.ok(after.hosts.every((h) => !h.running && !h.netns && !h.created))
  assert.equal((await labDown(INVENTORY)).removed.length, 0, 'a second down has nothing to remove')
})
