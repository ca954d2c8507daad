// `kaops plan` against real hosts: its own lab (test/fixtures/inventories/plan-lab.yaml, bridge
// kaops-plan0, 198.18.60.0/24) so it can run while other labs are up. A fresh lab plans every
// resource as create (library and `node bin/run.js plan --json --detailed-exitcode`); hand edits
// over SSH (a line appended to the sysctl drop-in, a sysctl changed with sysctl -w) show up as
// exactly those two updates; a host whose link is down is an error naming it while the others
// are still planned. The VRRP secret never appears in any output. The lab comes down at the end,
// even on failure. Needs root, systemd-nspawn and the lab's base image (built once, cached).
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {execFile, execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {labDown, labUp} from '../../src/lab/lab.js'
import {readLabSpec, type LabSpec} from '../../src/lab/lab-spec.js'
import {labExec, writeToHost} from '../../src/lab/host-access.js'
import {vethName} from '../../src/lab/paths.js'
import {loadInventory} from '../../src/inventory/load.js'
import {renderHosts} from '../../src/render/render-hosts.js'
import {SYSCTL_PATH} from '../../src/render/paths.js'
import {runPlan, type PlanRun, type RunPlanOptions} from '../../src/plan/run-plan.js'
import {formatPlanHuman} from '../../src/plan/format-human.js'
import {formatPlanJson} from '../../src/plan/format-json.js'
import type {Plan, ResourceChange} from '../../src/model/plan.js'
import {whyNotHere} from './helpers/preconditions.js'

const ROOT = join(import.meta.dirname, '..', '..')
const INVENTORY = join(ROOT, 'test', 'fixtures', 'inventories', 'plan-lab.yaml')
const PLANNED = ['pdir1', 'pdir2', 'pweb1', 'pweb2']
// The inventory reads the VRRP password from here; a value no other text would contain, so its
// absence from every output means something.
const SECRET = 'pL4nS3c'
process.env.KAOPS_LAB_VRRP_PASS = SECRET

let skipAll: string | undefined
let spec: LabSpec | undefined

const whyCannotRun = () => whyNotHere('network namespaces, containers', ['systemd-nspawn', 'ssh', 'ip'])

before(async () => {
  skipAll = whyCannotRun()
  if (skipAll) return
  try {
    spec = await readLabSpec(INVENTORY)
    await labUp(INVENTORY)
  } catch (error) {
    skipAll = `the lab does not come up here: ${(error as Error).message}`
  }
})

after(async () => {
  if (whyCannotRun()) return
  await labDown(INVENTORY).catch((error: unknown) => console.error(`plan-lab: lab down failed: ${(error as Error).message}`))
})

const plan = (opts: RunPlanOptions = {}): Promise<PlanRun> =>
  runPlan(INVENTORY, {loadInventory: (p) => loadInventory(p), renderHosts: (inv) => renderHosts(inv)}, {parallel: 4, ...opts})

function assertNoSecret(plan: Plan, where: string): void {
  assert.ok(!formatPlanJson(plan).includes(SECRET), `${where}: the secret is in the --json output`)
  assert.ok(!formatPlanHuman(plan, {colour: false, verbose: true}).includes(SECRET), `${where}: the secret is in the human output`)
}

async function sh(host: string, script: string): Promise<string> {
  const r = await labExec(spec!, host, ['sh', '-c', script])
  if (r.code !== 0) throw new Error(`${host}: ${script}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

const key = (host: string, c: ResourceChange) => `${host} ${c.kind} ${c.id}`
function actions(p: Plan): Map<string, ResourceChange> {
  return new Map(p.hosts.flatMap((h) => h.changes.map((c) => [key(h.host, c), c] as const)))
}

/**
 * On a fresh host everything kaops manages is created, except keepalived.service, which kaops
 * wants stopped and disabled: the lab image has it installed but not running, so nothing to do.
 */
const freshAction = (c: {kind: string; id: string}) => (c.kind === 'unit' && c.id === 'keepalived.service' ? 'no-op' : 'create')

test('a fresh lab plans every resource as create on every managed host', async (t) => {
  if (skipAll) return t.skip(skipAll)
  const {plan: p, desired} = await plan()
  assert.deepEqual(p.errors, [])
  assert.deepEqual(p.hosts.map((h) => h.host).sort(), PLANNED)
  assert.equal(p.has_changes, true)
  for (const h of p.hosts) {
    assert.ok(h.changes.length > 0, `${h.host} has resources`)
    for (const c of h.changes) assert.equal(c.action, freshAction(c), `${key(h.host, c)}: ${c.action} (${c.reason ?? ''})`)
  }
  // Every kind the plan knows about is covered by this lab: directors get the binary and
  // firewall, real servers sysctl and the loopback VIP.
  const kinds = new Set(p.hosts.flatMap((h) => h.changes.map((c) => c.kind)))
  assert.deepEqual([...kinds].sort(), ['binary', 'file', 'firewall', 'loopback-vip', 'sysctl', 'unit'])
  // The secret is really in what would be written (so its absence below is a real check)...
  assert.ok(desired.some((d) => d.files.some((f) => f.content.includes(SECRET))), 'the rendered keepalived.conf carries the secret')
  // ...and the create diff of keepalived.conf shows it redacted.
  const kc = p.hosts.find((h) => h.host === 'pdir1')!.changes.find((c) => c.id === '/etc/kaopsd/keepalived.conf')!
  assert.match(kc.diff ?? '', /<redacted>/)
  assertNoSecret(p, 'fresh plan')
})

test('the command: `kaops plan --json --detailed-exitcode` exits 2 with every resource as create', async (t) => {
  if (skipAll) return t.skip(skipAll)
  if (!existsSync(join(ROOT, 'dist', 'commands', 'plan.js'))) return t.skip('dist/ is not built (npm run build): bin/run.js loads commands from there')
  const r = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'run.js'), 'plan', INVENTORY, '--json', '--detailed-exitcode'], {
    cwd: ROOT,
    timeout: 120_000,
    maxBuffer: 32 << 20,
    env: {...process.env, NO_COLOR: '1'},
  }).then(
    (ok) => ({code: 0, stdout: ok.stdout, stderr: ok.stderr}),
    (e: {code?: number; stdout?: string; stderr?: string}) => ({code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? ''}),
  )
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`)
  const p = JSON.parse(r.stdout) as Plan
  assert.equal(p.format_version, 1)
  assert.deepEqual(p.errors, [])
  assert.deepEqual(p.hosts.map((h) => h.host).sort(), PLANNED)
  for (const h of p.hosts) for (const c of h.changes) assert.equal(c.action, freshAction(c), key(h.host, c))
  assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), 'the secret is in the command output')
})

test('hand edits on a real server show exactly that drift: the drop-in as update with the appended line, the sysctl as update', async (t) => {
  if (skipAll) return t.skip(skipAll)
  // Put pweb1's sysctl drop-in and values in place the way apply would, so they plan as no-op...
  const desired = renderHosts(await loadInventory(INVENTORY)).find((d) => d.name === 'pweb1')!
  const dropIn = desired.files.find((f) => f.path === SYSCTL_PATH)
  assert.ok(dropIn, `pweb1 has ${SYSCTL_PATH} in its desired state`)
  await writeToHost(spec!, 'pweb1', dropIn.content, SYSCTL_PATH, dropIn.mode)
  await sh('pweb1', `sysctl -q -p ${SYSCTL_PATH}`)
  const {plan: baseline} = await plan()
  const base = actions(baseline)
  assert.equal(base.get(`pweb1 file ${SYSCTL_PATH}`)?.action, 'no-op')
  for (const s of desired.sysctl) assert.equal(base.get(`pweb1 sysctl ${s.key}`)?.action, 'no-op', s.key)

  // ...then edit by hand, as an operator on the box would.
  const appended = 'net.ipv4.conf.all.rp_filter = 0'
  await sh('pweb1', `printf '%s\\n' '${appended}' >> ${SYSCTL_PATH}`)
  await sh('pweb1', 'sysctl -q -w net.ipv4.conf.all.arp_ignore=2')
  const {plan: drifted} = await plan()
  assert.deepEqual(drifted.errors, [])
  const now = actions(drifted)
  assert.deepEqual([...now.keys()].sort(), [...base.keys()].sort(), 'the same resources are planned')
  const changed = [...now].filter(([k, c]) => c.action !== base.get(k)!.action || JSON.stringify(c.before) !== JSON.stringify(base.get(k)!.before))
  assert.deepEqual(changed.map(([k]) => k).sort(), [`pweb1 file ${SYSCTL_PATH}`, 'pweb1 sysctl net.ipv4.conf.all.arp_ignore'])
  const file = now.get(`pweb1 file ${SYSCTL_PATH}`)!
  assert.equal(file.action, 'update')
  // The diff takes the line away again (apply writes the rendered content back).
  assert.ok((file.diff ?? '').split('\n').includes(`-${appended}`), `diff:\n${file.diff}`)
  const sysctl = now.get('pweb1 sysctl net.ipv4.conf.all.arp_ignore')!
  assert.equal(sysctl.action, 'update')
  assert.deepEqual([sysctl.before, sysctl.after], [{value: '2'}, {value: '1'}])
  const human = formatPlanHuman(drifted, {colour: false})
  assert.match(human, /pweb1/)
  assert.match(human, new RegExp(`-${appended.replace(/\./g, '\\.')}`))
  assertNoSecret(drifted, 'drift plan')
})

test('an unreachable host is an error naming it; the others are still planned', async (t) => {
  if (skipAll) return t.skip(skipAll)
  const veth = vethName('pweb2')
  execFileSync('ip', ['link', 'set', veth, 'down'])
  try {
    const started = Date.now()
    const {plan: p} = await plan({connectTimeoutMs: 3000})
    assert.ok(Date.now() - started < 30_000, 'the unreachable host does not hold the plan up beyond its timeout')
    assert.equal(p.errors.length, 1, JSON.stringify(p.errors))
    assert.equal(p.errors[0]!.host, 'pweb2')
    assert.match(p.errors[0]!.message, /pweb2/)
    assert.deepEqual(p.hosts.map((h) => h.host).sort(), ['pdir1', 'pdir2', 'pweb1'])
    assert.match(formatPlanHuman(p, {colour: false}), /pweb2/)
    assertNoSecret(p, 'plan with an unreachable host')
  } finally {
    execFileSync('ip', ['link', 'set', veth, 'up'])
  }
})
