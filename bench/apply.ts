// `npm run bench:apply`: how long `kaops apply` takes on real lab hosts, cold (fresh hosts: every
// file, sysctl, unit and the kaopsd executable sent, kaopsd started, each director gated) and
// with nothing to change (plan only, no host touched).
//
//   npm run bench:apply -- [--sizes 4,10,30] [--parallel 10] [--keep]
//
// Each size is its own fresh lab (bridge kaops-bapply0, 198.18.62.0/24): two LVS-DR directors
// and N-2 real servers balanced by one DR service, so 4 is the shape of inventories/lab.yaml.
// Timed in-process (runApply, as the command calls it), without the confirmation question.
// Needs root (the lab) and a built kaopsd (npm run build). --keep leaves the largest lab up.
import {existsSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {stringify} from 'yaml'
import {runApply} from '../src/apply/run-apply.js'
import {inventoryModules} from '../src/apply/inventory-modules.js'
import {defaultKaopsdPath} from '../src/plan/kaopsd-artifact.js'
import {benchLabInventory, type BenchLab} from './lab-inventory.js'

const {values: flags} = parseArgs({
  options: {
    sizes: {type: 'string', default: '4,10,30'},
    parallel: {type: 'string', default: '10'},
    keep: {type: 'boolean', default: false},
  },
})
const sizes = flags.sizes.split(',').map(Number).sort((a, b) => a - b)
const parallel = Number(flags.parallel)
if (sizes.some((n) => !Number.isInteger(n) || n < 2 || n > 120) || !(parallel >= 1)) {
  console.error('bench:apply: --sizes takes host counts from 2 to 120 (two directors plus real servers), --parallel at least 1')
  process.exit(1)
}
if (process.getuid?.() !== 0) {
  console.error('bench:apply needs root (it brings up a lab of containers)')
  process.exit(3)
}
if (!existsSync(defaultKaopsdPath())) {
  console.error(`bench:apply needs kaopsd built at ${defaultKaopsdPath()} (npm run build)`)
  process.exit(3)
}

const lab: BenchLab = {
  bridge: 'kaops-bapply0',
  net: '198.18.62',
  bench: 'apply',
  directors: ['bad1', 'bad2'],
  realPrefix: 'bar',
  vipName: 'VI_BA',
  vrid: 72,
  secretEnv: 'KAOPS_BENCH_VRRP_PASS',
  knownHosts: join(homedir(), '.cache/kaops/lab/known_hosts-bench-apply'),
}

const {labUp, labDown} = await import('../src/lab/lab.js')
const mods = await inventoryModules()
const dir = await mkdtemp(join(tmpdir(), 'kaops-bench-apply-'))
const rows: string[] = []
let current: string | undefined
try {
  for (const n of sizes) {
    const inventory = join(dir, `bench-apply-${n}.yaml`)
    await writeFile(inventory, stringify(benchLabInventory(lab, n)))
    // A fresh lab per size: a cold apply needs hosts kaops never touched.
    if (current) await labDown(current)
    current = inventory
    const up = await labUp(inventory)
    const t0 = performance.now()
    const cold = await runApply(inventory, mods, {parallel})
    const t1 = performance.now()
    const again = await runApply(inventory, mods, {parallel})
    const t2 = performance.now()
    if (!cold.result?.ok) throw new Error(`cold apply on ${n} hosts failed: ${JSON.stringify(cold.result?.hosts.filter((h) => h.error))}`)
    if (again.skipped !== 'no-changes') throw new Error(`the apply after the cold one on ${n} hosts still changed something`)
    const row = `${String(n).padStart(5)}  ${((t1 - t0) / 1000).toFixed(2).padStart(9)} s  ${((t2 - t1) / 1000).toFixed(2).padStart(9)} s  (lab up ${up.seconds.toFixed(1)} s)`
    rows.push(row)
    console.error(`bench:apply: ${n} hosts done`)
  }
} finally {
  if (current && flags.keep) console.error(`bench:apply: lab left up; remove it with: node bin/run.js lab down ${current}`)
  else {
    if (current) await labDown(current).catch((e: unknown) => console.error(`lab down: ${(e as Error).message}`))
    await rm(dir, {recursive: true, force: true})
  }
}
console.log(`kaops apply on lab hosts (2 directors + real servers, --parallel ${parallel}; cold = fresh hosts, kaopsd sent and started)`)
console.log('hosts       cold    no-change')
for (const r of rows) console.log(r)
