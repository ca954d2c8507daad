// npm run bench:apply: cold and no-change apply times on the lab (2 directors now; 10 and 30
// hosts when the lab can make that many). Needs root and a built kaopsd.
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {runApply} from '../src/apply/run-apply.js'
import {inventoryModules} from '../src/apply/inventory-modules.js'
import {defaultKaopsdPath} from '../src/plan/kaopsd-artifact.js'

const inventory = process.argv[2] ?? join(import.meta.dirname, '..', 'inventories', 'lab.yaml')
if (process.getuid?.() !== 0) {
  console.error('bench:apply needs root (the lab)')
  process.exit(3)
}
if (!existsSync(defaultKaopsdPath())) {
  console.error(`bench:apply needs kaopsd built at ${defaultKaopsdPath()} (npm run build)`)
  process.exit(3)
}
const {labUp, labDown} = await import('../src/lab/lab.js')
const mods = await inventoryModules()
await labUp(inventory)
try {
  const t0 = performance.now()
  const cold = await runApply(inventory, mods, {parallel: 10})
  const t1 = performance.now()
  const again = await runApply(inventory, mods, {parallel: 10})
  const t2 = performance.now()
  console.log(`hosts: ${cold.plan.hosts.length}`)
  console.log(`cold apply:      ${((t1 - t0) / 1000).toFixed(2)} s (${cold.result?.ok ? 'ok' : 'FAILED'})`)
  console.log(`no-change apply: ${((t2 - t1) / 1000).toFixed(2)} s (${again.skipped === 'no-changes' ? 'no changes' : 'CHANGED'})`)
  console.log('10 and 30 hosts: pending a lab that can make that many')
} finally {
  await labDown(inventory)
}
