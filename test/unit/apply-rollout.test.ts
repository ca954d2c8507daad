// The rollout engine against scripted fake hosts: order, failure handling, summary.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {runRollout} from '../../src/apply/rollout.js'
import {newHostRun, type HostShell} from '../../src/apply/host-run.js'
import type {ExecOptions} from '../../src/remote/connection.js'
import {defaultPlaybookPath, loadPlaybook} from '../../src/apply/playbook-load.js'
import {formatSummary} from '../../src/apply/summary.js'
import type {RolloutEnv} from '../../src/apply/rollout-env.js'
import type {DesiredHost} from '../../src/model/desired-state.js'
import type {ReleaseManifest} from '../../src/model/release.js'
import {buildManifest} from '../../src/apply/manifest.js'
import {configHashOf} from '../../src/model/config-hash.js'
import {makeRolloutId} from '../../src/apply/release-id.js'
import {director as fixtureDirector, realServer} from './plan-fixtures.js'
import {KAOPSD_CONFIG_PATH} from '../../src/render/paths.js'

const KSHA = 'c'.repeat(64)
/** The plan fixture's director, with the daemon config where the renderer puts it. */
const director = (name: string, address: string, prio: number): DesiredHost => {
  const d = fixtureDirector(name, address, prio)
  return {...d, files: d.files.map((f) => (f.path.endsWith('/keepalived.conf') ? {...f, path: KAOPSD_CONFIG_PATH} : f))}
}

interface Fake {
  log: string[]
  shell: HostShell
}

/** What a fake host runs: the script on stdin for `sh -s`, else the command itself. */
const scriptOf = (command: string, o?: ExecOptions): string => (command === 'sh -s' ? String(o?.stdin ?? '') : command)
const ok = (stdout = 'OK\n') => ({stdout, stderr: '', code: 0})
/** The release a switch script points `current` at. */
const switchTarget = (script: string): string | undefined => /releases\/(\S+?)'? /.exec(script.split('\n').find((l) => l.startsWith('ln -s')) ?? '')?.[1]?.replace(/'/g, '')

/** A host that answers kaops' scripts by what they contain; `reject` makes `kaopsd -t` fail. */
function fakeHost(name: string, opts: {reject?: boolean; holdsVip?: boolean; lockedBy?: string} = {}): Fake {
  const log: string[] = []
  let current: string | null = '20241231T000000Z-00000000'
  // What kaopsd would report as configHash: the staged config's once it reloads or restarts.
  let staged = ''
  let running = 'the configuration before this apply'
  const shell: HostShell = {
    close() {},
    async exec(command, o) {
      const script = scriptOf(command, o)
      if (script.includes('echo TAKEN')) {
        log.push('lock')
        return ok(opts.lockedBy ? `HELD\n${opts.lockedBy}\n` : 'TAKEN\n')
      }
      if (script.includes('echo "CUR ${c:--}"')) return ok(`CUR ${current ?? '-'}\nKS ${KSHA}\nCM -\nIDS ${current ?? ''}\nEND\n`)
      if (script.includes(' -t -f ')) {
        log.push('config-test')
        return opts.reject ? {stdout: 'line 3: unknown keyword "bogus"\n', stderr: '', code: 1} : ok()
      }
      if (script.includes('.current.kaops-tmp')) {
        current = switchTarget(script) ?? 'x'
        log.push('switch')
        return ok()
      }
      if (script.includes('KAOPS_PATHS')) {
        log.push('install')
        return ok(`CHANGED ${KAOPSD_CONFIG_PATH}\nEND\n`)
      }
      if (script.includes('gzip -dc')) log.push('kaopsd-sent')
      if (script.includes('ln -f --')) log.push('kaopsd-linked')
      if (script.includes('KAOPS_MANIFEST')) {
        log.push('upload')
        const m = new RegExp(`put ${KAOPSD_CONFIG_PATH} \\S+ \\S+ <<'(KAOPS_FILE_\\d+)'\\n([\\s\\S]*?)\\n\\1`).exec(script)
        if (m) staged = configHashOf(KAOPSD_CONFIG_PATH, Buffer.from(m[2]!.replace(/\n/g, ''), 'base64').toString('utf8'))
      }
      if (script.includes('is-active kaopsd.service') && script.startsWith('systemctl')) return ok('active\n')
      if (script.includes('systemctl reload')) {
        log.push('reload')
        running = staged
      }
      if (script.includes('systemctl restart kaopsd')) {
        log.push('restart')
        running = staged
      }
      if (script.startsWith('rm -rf')) log.push('discard')
      if (script.includes('echo "U $(systemctl is-active')) {
        const ip = Buffer.from(JSON.stringify([{ifname: 'eth0', addr_info: opts.holdsVip ? [{family: 'inet', local: '198.18.0.100', prefixlen: 24}] : []}])).toString('base64')
        const st = Buffer.from(JSON.stringify({format_version: 1, configHash: running, instances: [{name: 'VI_1', state: opts.holdsVip ? 'MASTER' : 'BACKUP'}]})).toString('base64')
        return ok(`U active\nA ${ip}\nST ${st}\nEND\n`)
      }
      return ok()
    },
  }
  return {log, shell}
}

function env(hosts: Map<string, Fake>, directors: DesiredHost[], order: string[]): RolloutEnv {
  return {
    mode: 'apply',
    directors,
    connect: async (d) => hosts.get(d.name)!.shell,
    kaopsd: async () => ({path: '/k', sha256: KSHA, gzipped: Buffer.from('gz'), size: 2}),
    addressesAtStart: (n) => (n === 'dir1' ? [{ifname: 'eth0', cidr: '198.18.0.100/24', family: 'inet'}] : []),
    parallel: 10,
    keepReleases: 5,
    holder: 'op@ops1 pid=1 since=2025-01-01T00:00:00.000Z op=apply run=ab',
    machine: 'ops1',
    now: () => new Date('2025-01-01T00:00:00Z'),
    sleep: async () => {},
    progress: (e) => {
      if (e.type === 'host-start') order.push(`${e.phase}:${e.host}`)
    },
  }
}

test('apply: real servers first, then the backup director, then the master; all end on the new release', async () => {
  const d1 = director('dir1', '198.18.0.11', 150)
  const d2 = director('dir2', '198.18.0.12', 100)
  const w1 = realServer('web1', '198.18.0.21')
  const hosts = new Map([['dir1', fakeHost('dir1', {holdsVip: true})], ['dir2', fakeHost('dir2')], ['web1', fakeHost('web1')]])
  const order: string[] = []
  const r = await runRollout(await loadPlaybook(defaultPlaybookPath('apply')), [d1, d2, w1].map((d) => newHostRun(d)), env(hosts, [d1, d2], order))
  assert.equal(r.ok, true, formatSummary(r))
  const after = order.filter((o) => !o.startsWith('lock:'))
  // Every host stages its release (in parallel) before any host switches.
  assert.deepEqual(after.slice(0, 3).sort(), ['stage:dir1', 'stage:dir2', 'stage:web1'])
  assert.deepEqual(after.slice(3), ['real-servers:web1', 'directors:dir2', 'directors:dir1'])
  for (const h of r.hosts) assert.equal(h.state, 'done')
  assert.match(r.hosts[0]!.release_after!, /^20250101T000000Z-[0-9a-f]{8}$/)
  assert.deepEqual(hosts.get('dir2')!.log.filter((l) => l !== 'lock'), ['upload', 'kaopsd-linked', 'config-test', 'switch', 'install', 'reload'])
  assert.match(formatSummary(r), /dir2\s+now on release 20250101T000000Z-\w+ \(was 20241231T000000Z-00000000\)/)
})

test('a config kaopsd rejects: that host is stopped with nothing switched, the rest untouched', async () => {
  const d1 = director('dir1', '198.18.0.11', 150)
  const d2 = director('dir2', '198.18.0.12', 100)
  const hosts = new Map([['dir1', fakeHost('dir1', {holdsVip: true})], ['dir2', fakeHost('dir2', {reject: true})]])
  const r = await runRollout(await loadPlaybook(defaultPlaybookPath('apply')), [d1, d2].map((d) => newHostRun(d)), env(hosts, [d1, d2], []))
  assert.equal(r.ok, false)
  const dir2 = r.hosts.find((h) => h.host === 'dir2')!
  assert.equal(dir2.state, 'failed-nothing-switched')
  assert.equal(dir2.step, 'config-test')
  assert.match(dir2.error!, /kaopsd rejected the new config on dir2: line 3: unknown keyword "bogus"/)
  assert.ok(!hosts.get('dir2')!.log.includes('switch'))
  assert.ok(hosts.get('dir2')!.log.includes('discard'), 'the rejected release is removed')
  assert.equal(r.hosts.find((h) => h.host === 'dir1')!.state, 'not-touched')
  assert.ok(!hosts.get('dir1')!.log.includes('switch'), 'dir1 is never switched')
  assert.ok(hosts.get('dir1')!.log.includes('discard'), "dir1's staged release is removed")
  const s = formatSummary(r)
  assert.match(s, /Apply STOPPED/)
  assert.match(s, /dir2\s+FAILED at config-test, nothing switched: still on release 20241231T000000Z-00000000/)
  assert.match(s, /dir1\s+not touched \(the rollout stopped first\)/)
})

test('a lock held elsewhere stops everything before any change, naming the holder', async () => {
  const d1 = director('dir1', '198.18.0.11', 150)
  const other = 'bob@ops9 pid=77 since=2025-01-01T00:00:00.000Z op=apply run=cd'
  const hosts = new Map([['dir1', fakeHost('dir1', {lockedBy: other})]])
  const r = await runRollout(await loadPlaybook(defaultPlaybookPath('apply')), [newHostRun(d1)], env(hosts, [d1], []))
  assert.equal(r.ok, false)
  assert.deepEqual(r.locked, {host: 'dir1', holder: other})
  assert.ok(!hosts.get('dir1')!.log.includes('upload'))
  assert.match(formatSummary(r), /dir1 is locked by bob@ops9 pid=77/)
})

/**
 * A real server that keeps releases (manifests by id) and a current link, and answers the
 * scripts rollback runs: lock, inspect, list, read a manifest, switch. `beforeLock` runs as the
 * lock is taken (another apply finishing just before, say).
 */
function releaseHost(manifests: ReleaseManifest[], current: string, beforeLock?: (h: {current: string}) => void): Fake & {state: {current: string}} {
  const log: string[] = []
  const state = {current}
  const byId = new Map(manifests.map((m) => [m.id, m]))
  const b64 = (m: ReleaseManifest) => Buffer.from(JSON.stringify(m)).toString('base64')
  const shell: HostShell = {
    close() {},
    async exec(command, o) {
      const script = scriptOf(command, o)
      if (script.includes('echo TAKEN')) {
        beforeLock?.(state)
        return ok('TAKEN\n')
      }
      if (script.includes('echo "CUR ${c:--}"')) return ok(`CUR ${state.current}\nKS -\nCM ${b64(byId.get(state.current)!)}\nIDS ${[...byId.keys()].join(' ')}\nEND\n`)
      if (script.includes('echo "R $id')) return ok(`CUR ${state.current}\n${[...byId.values()].map((m) => `R ${m.id} ${b64(m)}`).join('\n')}\nEND\n`)
      const cat = /^cat '?\/opt\/kaops\/releases\/([^/\s']+)\/manifest\.json'?$/.exec(script)
      if (cat) return ok(JSON.stringify(byId.get(cat[1]!)))
      if (script.includes('.current.kaops-tmp')) {
        state.current = switchTarget(script)!
        log.push(`switch ${state.current}`)
        return ok()
      }
      return ok(script.includes('KAOPS_PATHS') ? 'END\n' : 'OK\n')
    },
  }
  return {log, shell, state}
}

/** Apply A made a release on web1 and web2, apply B one on web1 only (all as buildManifest writes them). */
function aThenB(beforeLockWeb2?: (h: {current: string}) => void) {
  const A = makeRolloutId(new Date('2025-01-01T00:00:00Z'), 'aaaaaaaa')
  const B = makeRolloutId(new Date('2025-01-02T00:00:00Z'), 'bbbbbbbb')
  const w1 = realServer('web1', '198.18.0.21')
  const w2 = realServer('web2', '198.18.0.22')
  const made = (d: DesiredHost, day: string, rollout: string, previousRelease: string | null) => buildManifest(d, {now: new Date(`2025-01-${day}T00:00:01Z`), createdBy: 'op@ops1', rollout, previousRelease})
  const old1 = buildManifest(w1, {now: new Date('2024-12-01T00:00:00Z'), createdBy: 'op@ops1'})
  const old2 = buildManifest(w2, {now: new Date('2024-12-01T00:00:00Z'), createdBy: 'op@ops1'})
  const a1 = made(w1, '01', A, old1.id)
  const a2 = made(w2, '01', A, old2.id)
  const b1 = made({...w1, sysctl: [...w1.sysctl, {key: 'net.ipv4.conf.all.arp_filter', value: '0'}]}, '02', B, a1.id)
  const hosts = new Map([['web1', releaseHost([old1, a1, b1], b1.id)], ['web2', releaseHost([old2, a2], a2.id, beforeLockWeb2)]])
  return {A, B, w1, w2, old2, a1, a2, b1, hosts}
}

const rollbackEnv = (hosts: Map<string, Fake>, parallel: number): RolloutEnv => ({...env(hosts, [], []), mode: 'rollback', parallel, holder: 'op@ops1 pid=1 since=2025-01-01T00:00:00.000Z op=rollback run=ab'})

test('rollback after apply A (web1, web2) and B (web1 only) undoes B alone: web1 back to its A release, web2 stays and says why', async () => {
  const {A, B, w1, w2, a1, a2, hosts} = aThenB()
  const r = await runRollout(await loadPlaybook(defaultPlaybookPath('rollback')), [w1, w2].map((d) => newHostRun(d)), rollbackEnv(hosts, 10))
  assert.equal(r.ok, true, formatSummary(r))
  assert.equal(r.undone_rollout, B)
  assert.deepEqual(hosts.get('web1')!.log, [`switch ${a1.id}`])
  assert.deepEqual(hosts.get('web2')!.log, [], 'web2 is not switched')
  const [o1, o2] = r.hosts
  assert.deepEqual([o1!.state, o1!.release_after], ['done', a1.id])
  assert.deepEqual([o2!.state, o2!.release_after], ['unchanged', a2.id])
  assert.match(o2!.notes.join(), new RegExp(`not changed by rollout ${B}: stays on ${a2.id}, from rollout ${A}`))
  assert.match(formatSummary(r), new RegExp(`^Rollback of rollout ${B} complete`))
})

test('rollback: a host whose current release changed after the hosts were read (another apply) stops the rollback before anything is switched', async () => {
  // One host at a time: web1's select-release reads every host, then web2 is locked, and just
  // before that another apply moved web2 back to its old release.
  const {w1, w2, old2, hosts} = aThenB((h) => (h.current = old2.id))
  const r = await runRollout(await loadPlaybook(defaultPlaybookPath('rollback')), [w1, w2].map((d) => newHostRun(d)), rollbackEnv(hosts, 1))
  assert.equal(r.ok, false, formatSummary(r))
  const o2 = r.hosts.find((h) => h.host === 'web2')!
  assert.equal(o2.step, 'select-release')
  assert.match(o2.error!, new RegExp(`web2: its current release changed from \\S+ to ${old2.id} while the rollback read the hosts`))
  assert.deepEqual(hosts.get('web1')!.log, [], 'web1 is not switched either')
  assert.equal(r.hosts.find((h) => h.host === 'web1')!.state, 'not-touched')
})
