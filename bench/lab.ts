// `npm run bench:lab`: how long `kaops lab up` takes cold (no cached base image: debootstrap
// plus boot) and warm (cached base: boot only), a no-op `up`, and `down`.
// Needs root. It takes the lab down first and removes the cached base image: the cold number
// is what a fresh machine pays.
import {labPaths} from '../src/lab/paths.js'
import {pruneBases} from '../src/lab/base-image.js'
import {labDown, labUp} from '../src/lab/lab.js'

const inventory = process.argv[2] ?? 'inventories/lab.yaml'
const progress = (line: string): void => {
  process.stderr.write(`  ${line}\n`)
}

async function timed<T>(what: string, fn: () => Promise<T>): Promise<{what: string; seconds: number; result: T}> {
  process.stderr.write(`${what}...\n`)
  const t0 = performance.now()
  const result = await fn()
  return {what, seconds: (performance.now() - t0) / 1000, result}
}

if (process.getuid?.() !== 0) {
  console.error('bench:lab needs root (it runs kaops lab up/down)')
  process.exit(3)
}

await labDown(inventory)
const removed = await pruneBases(labPaths(), new Set())
process.stderr.write(`removed ${removed.length} cached base image(s)\n`)

const rows = [
  await timed('lab up, cold (debootstrap + boot)', () => labUp(inventory, {progress})),
  await timed('lab down', () => labDown(inventory, {progress})),
  await timed('lab up, warm (cached base, boot only)', () => labUp(inventory, {progress})),
  await timed('lab up, again (already up: no-op)', () => labUp(inventory, {progress})),
  await timed('lab down', () => labDown(inventory, {progress})),
]
const hosts = rows[0]!.result && 'hosts' in rows[0]!.result ? rows[0]!.result.hosts.length : 0
console.log(`kaops lab bench: ${inventory}, ${hosts} hosts`)
for (const r of rows) console.log(`${r.what.padEnd(40)} ${r.seconds.toFixed(1).padStart(7)} s`)
