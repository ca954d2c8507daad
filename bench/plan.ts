// `npm run bench:plan`: `kaops plan` beside `ansible-playbook --check --diff` doing the same
// templating, on the same lab hosts, in the same run.
//
//   npm run bench:plan -- [--sizes 2,10,30] [--rounds 5] [--parallel 10] [--keep]
//
// One lab (bridge kaops-bplan0, 198.18.61.0/24) is brought up with the largest size: two LVS-DR
// directors and N-2 real servers. Each size gets its own generated inventory naming the first N
// of those hosts (so its keepalived.conf lists exactly its real servers) and a matching Ansible
// inventory; bench/ansible/plan.yml templates kaops' rendered files and checks the sysctl
// values, units, kaopsd binary, firewall table and loopback VIPs. Both tools connect with the
// lab key and strict host-key checking against the lab's known_hosts, both at the same
// concurrency (--parallel, Ansible's forks), each round cold (no SSH connection kept from an
// earlier round). Rounds alternate which tool goes first; the median is reported.
//
// Timed: the `kaops plan --json` process end to end (node start, inventory, render, kaopsd
// hash, SSH, probe, plan) against the `ansible-playbook` process end to end; and, for
// reference, runPlan() in-process. Needs root (the lab) and a build (dist/: npm run build).
// Installs Debian's ansible when it is missing (scripts/install-deps.sh bench). The rendered
// files hold the lab's VRRP secret: they live in a 0700 temp directory removed at the end, and
// Ansible's --diff output (which would show it) is kept out of the terminal.
//
// Measured here (2 cores shared with other engineers' labs and tests, load average 3 to 26
// during the runs; 3 rounds, median seconds; Debian's ansible-core 2.14.18):
//   --parallel 10:  2 hosts kaops 2.29 / ansible 14.68 (6.4x); 10 hosts 2.27 / 24.54 (10.8x);
//                   30 hosts 3.50 / 67.10 (19.2x). Growth 2 -> 30: kaops x1.5, ansible x4.6.
//   --parallel 30:  2 hosts 1.36 / 8.73 (6.4x); 30 hosts 1.68 / 46.01 (27.4x); kaops x1.2.
// Of kaops' time, ~1 s is the CLI process itself (node, oclif, ajv schema compile, handlebars);
// runPlan in-process took 0.23 to 0.32 s for 2 hosts and 1.1 to 1.8 s for 30 under that load.
// 30 containers fit (24 GB RAM) once fs.inotify.max_user_instances is raised (kaops lab up does it: src/lab/inotify-room.ts).
import {execFile, execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs, promisify} from 'node:util'
import {stringify} from 'yaml'
import {labDown, labUp} from '../src/lab/lab.js'
import {readLabSpec} from '../src/lab/lab-spec.js'
import {loadInventory} from '../src/inventory/load.js'
import {renderHosts} from '../src/render/render-hosts.js'
import {writeRenderedTree} from '../src/render/write-tree.js'
import {runPlan} from '../src/plan/run-plan.js'
import {defaultKaopsdPath, kaopsdArtifact} from '../src/plan/kaopsd-artifact.js'
import type {DesiredHost} from '../src/model/desired-state.js'
import type {Plan} from '../src/model/plan.js'
import {benchLabInventory, type BenchLab} from './lab-inventory.js'

const ROOT = join(import.meta.dirname, '..')
const BRIDGE = 'kaops-bplan0'
const SECRET_ENV = 'KAOPS_BENCH_VRRP_PASS'
const lab: BenchLab = {
  bridge: BRIDGE,
  net: '198.18.61',
  bench: 'plan',
  directors: ['bpd1', 'bpd2'],
  realPrefix: 'bpr',
  vipName: 'VI_B',
  vrid: 71,
  secretEnv: SECRET_ENV,
  // Beside the lab key, where `lab down` removes it; kept with --keep so the lab stays usable.
  knownHosts: '~/.cache/kaops/lab/known_hosts-bplan',
}

const {values: flags} = parseArgs({
  options: {
    sizes: {type: 'string', default: '2,10,30'},
    rounds: {type: 'string', default: '5'},
    parallel: {type: 'string', default: '10'},
    keep: {type: 'boolean', default: false},
  },
})
const sizes = flags.sizes.split(',').map(Number).sort((a, b) => a - b)
const rounds = Number(flags.rounds)
const parallel = Number(flags.parallel)
if (sizes.some((n) => !Number.isInteger(n) || n < 2 || n > 120) || !(rounds >= 1) || !(parallel >= 1)) {
  console.error('bench:plan: --sizes takes host counts from 2 to 120 (two directors plus real servers), --rounds and --parallel at least 1')
  process.exit(1)
}
const maxSize = sizes.at(-1)!

if (process.getuid?.() !== 0) {
  console.error('bench:plan needs root (it brings up a lab of containers)')
  process.exit(3)
}
if (!existsSync(join(ROOT, 'dist', 'commands', 'plan.js'))) {
  console.error('bench:plan times the built CLI (bin/run.js loads dist/commands): run `npm run build` first')
  process.exit(3)
}
if (!haveCommand('ansible-playbook')) {
  console.error('bench:plan: ansible-playbook is missing, installing Debian\'s ansible (scripts/install-deps.sh bench)')
  execFileSync('bash', [join(ROOT, 'scripts', 'install-deps.sh'), 'bench'], {stdio: 'inherit'})
}

function haveCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/** The Ansible inventory for the same hosts: addresses, lab key, strict known_hosts, and what to check. */
function ansibleInventory(hosts: DesiredHost[], renderDir: string, kaopsdPath: string | undefined): unknown {
  const h0 = hosts[0]!.ssh
  const sshArgs = [
    `-o UserKnownHostsFile=${h0.knownHosts}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o StrictHostKeyChecking=yes',
    '-o IdentitiesOnly=yes',
    '-o BatchMode=yes',
  ].join(' ')
  return {
    all: {
      vars: {
        ansible_user: h0.user,
        ansible_port: h0.port,
        ansible_ssh_private_key_file: h0.identityFile,
        ansible_ssh_common_args: sshArgs,
        kaops_render_dir: renderDir,
        kaops_binary: kaopsdPath ?? '',
      },
      hosts: Object.fromEntries(
        hosts.map((h) => [
          h.name,
          {
            ansible_host: h.ssh.host,
            kaops_director: h.roles.includes('director'),
            kaops_files: h.files.map((f) => ({path: f.path, mode: `0${f.mode.toString(8)}`})),
            kaops_sysctl: h.sysctl.map((s) => ({key: s.key, value: s.value})),
            kaops_units: h.units.map((u) => u.name),
            kaops_lo_vips: h.loopbackVips,
          },
        ]),
      ),
    },
  }
}

interface Timed {
  seconds: number
  note: string
}

const run = promisify(execFile)
async function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{code: number; stdout: string; stderr: string; seconds: number}> {
  const t0 = performance.now()
  const r = await run(cmd, args, {cwd: ROOT, env, maxBuffer: 256 << 20, timeout: 600_000}).then(
    (ok) => ({code: 0, stdout: ok.stdout, stderr: ok.stderr}),
    (e: {code?: number; stdout?: string; stderr?: string}) => ({code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? ''}),
  )
  return {...r, seconds: (performance.now() - t0) / 1000}
}

async function kaopsCli(inventory: string, n: number): Promise<Timed> {
  const r = await runProcess(process.execPath, [join(ROOT, 'bin', 'run.js'), 'plan', inventory, '--json', '--parallel', String(parallel)], {...process.env, NO_COLOR: '1'})
  if (r.code !== 0) throw new Error(`kaops plan exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  const plan = JSON.parse(r.stdout) as Plan
  if (plan.errors.length > 0 || plan.hosts.length !== n) throw new Error(`kaops plan: ${plan.hosts.length}/${n} hosts planned, errors: ${JSON.stringify(plan.errors)}`)
  const changes = plan.hosts.reduce((s, h) => s + h.changes.filter((c) => c.action !== 'no-op').length, 0)
  return {seconds: r.seconds, note: `${changes} resource changes`}
}

async function kaopsLibrary(inventory: string, n: number): Promise<Timed> {
  const t0 = performance.now()
  const kaopsd = await kaopsdArtifact()
  const {plan} = await runPlan(inventory, {loadInventory: (p) => loadInventory(p), renderHosts: (inv) => renderHosts(inv)}, {parallel, kaopsd})
  const seconds = (performance.now() - t0) / 1000
  if (plan.errors.length > 0 || plan.hosts.length !== n) throw new Error(`runPlan: ${plan.hosts.length}/${n} hosts planned, errors: ${JSON.stringify(plan.errors)}`)
  return {seconds, note: ''}
}

async function ansible(dir: string, n: number): Promise<Timed> {
  // A fresh control-socket directory per round: every round opens its SSH connections cold,
  // as kaops does; the masters are closed after the round.
  const controlDir = await mkdtemp(join(dir, 'cp-'))
  try {
    const r = await runProcess('ansible-playbook', ['-i', join(dir, 'hosts.yml'), join(ROOT, 'bench', 'ansible', 'plan.yml'), '--check', '--diff'], {
      ...process.env,
      ANSIBLE_CONFIG: join(ROOT, 'bench', 'ansible', 'ansible.cfg'),
      ANSIBLE_FORKS: String(parallel),
      ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
      ANSIBLE_NOCOLOR: '1',
    })
    // The recap only: the rest is --diff output, which carries the secret.
    const recap = r.stdout.split('\n').filter((l) => / : ok=\d+/.test(l))
    const failed = recap.filter((l) => !/ failed=0 /.test(l) || !/ unreachable=0 /.test(l))
    if (r.code !== 0 || recap.length !== n || failed.length > 0) {
      throw new Error(`ansible-playbook exited ${r.code}, ${recap.length}/${n} hosts in the recap${failed.length ? `, failing: ${failed.join('; ')}` : ''}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`)
    }
    const changed = recap.reduce((s, l) => s + Number(/changed=(\d+)/.exec(l)?.[1] ?? 0), 0)
    return {seconds: r.seconds, note: `${changed} changed tasks`}
  } finally {
    for (const sock of await readdir(controlDir).catch(() => [] as string[])) {
      try {
        execFileSync('ssh', ['-o', `ControlPath=${join(controlDir, sock)}`, '-O', 'exit', 'bench'], {stdio: 'ignore'})
      } catch {
        // already gone
      }
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

process.env[SECRET_ENV] ??= 'bench'
const work = await mkdtemp(join(tmpdir(), 'kaops-bench-plan-'))
const inventories = new Map<number, string>()
for (const n of sizes) {
  const dir = join(work, String(n))
  await mkdir(dir, {recursive: true, mode: 0o700})
  const path = join(dir, 'inventory.yaml')
  await writeFile(path, stringify(benchLabInventory(lab, n)))
  inventories.set(n, path)
}
const labInventory = inventories.get(maxSize)!
const kaopsdPath = existsSync(defaultKaopsdPath()) ? defaultKaopsdPath() : undefined

console.log(`bench:plan: ${sizes.join(', ')} hosts, ${rounds} rounds each, parallel ${parallel} (Ansible forks ${parallel}), kaopsd binary ${kaopsdPath ? 'checked by both' : 'not built: presence only'}`)
const rows: Array<{n: number; kaops: number; lib: number; ansible: number; notes: string}> = []
try {
  const spec = await readLabSpec(labInventory)
  process.stderr.write(`lab up: ${spec.hosts.length} hosts on ${BRIDGE}...\n`)
  const up = await labUp(labInventory, {bootTimeoutMs: 240_000})
  console.log(`lab up: ${up.hosts.length} containers in ${up.seconds.toFixed(1)} s`)

  for (const n of sizes) {
    const inventory = inventories.get(n)!
    const dir = join(work, String(n))
    const desired = renderHosts(await loadInventory(inventory))
    await writeRenderedTree(desired, join(dir, 'rendered'))
    await writeFile(join(dir, 'hosts.yml'), stringify(ansibleInventory(desired, join(dir, 'rendered'), kaopsdPath)))
    // One untimed round each: page cache, Python bytecode, the lab's sshd first-connection costs.
    await kaopsCli(inventory, n)
    await ansible(dir, n)
    const k: number[] = []
    const l: number[] = []
    const a: number[] = []
    let notes = ''
    for (let r = 0; r < rounds; r++) {
      const kaopsFirst = r % 2 === 0
      const order: Array<() => Promise<void>> = [
        async () => {
          const t = await kaopsCli(inventory, n)
          k.push(t.seconds)
          notes = t.note
        },
        async () => {
          const t = await ansible(dir, n)
          a.push(t.seconds)
          notes = `${notes}; ${t.note}`
        },
      ]
      for (const step of kaopsFirst ? order : order.reverse()) await step()
      l.push((await kaopsLibrary(inventory, n)).seconds)
    }
    const row = {n, kaops: median(k), lib: median(l), ansible: median(a), notes}
    rows.push(row)
    console.log(
      `${String(n).padStart(3)} hosts: kaops plan ${row.kaops.toFixed(2)} s (runPlan in-process ${row.lib.toFixed(2)} s), ansible-playbook --check --diff ${row.ansible.toFixed(2)} s, ratio ${(row.ansible / row.kaops).toFixed(1)}x  [kaops ${k.map((x) => x.toFixed(2)).join(' ')} | ansible ${a.map((x) => x.toFixed(2)).join(' ')}] (${notes})`,
    )
  }
} finally {
  if (!flags.keep) await labDown(labInventory).catch((error: unknown) => console.error(`bench:plan: lab down failed: ${(error as Error).message}`))
  await rm(work, {recursive: true, force: true})
}

console.log('\nmedian seconds per plan of every host')
console.log('hosts  kaops(cli)  kaops(lib)  ansible  ansible/kaops')
for (const r of rows) console.log(`${String(r.n).padStart(5)}  ${r.kaops.toFixed(2).padStart(10)}  ${r.lib.toFixed(2).padStart(10)}  ${r.ansible.toFixed(2).padStart(7)}  ${(r.ansible / r.kaops).toFixed(1).padStart(12)}x`)
if (rows.length > 1) {
  const first = rows[0]!
  const last = rows.at(-1)!
  console.log(`growth ${first.n} -> ${last.n} hosts: kaops x${(last.kaops / first.kaops).toFixed(2)}, ansible x${(last.ansible / first.ansible).toFixed(2)}`)
}
