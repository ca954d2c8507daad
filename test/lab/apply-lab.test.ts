// apply / rollback / releases against the lab (root, netns, systemd-nspawn). One lab shared by
// every test in this file; torn down at the end even on failure. Tests that need the kaopsd
// daemon skip with the reason until dist/kaopsd exists.
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {runApply, runRollback, runReleases} from '../../src/apply/run-apply.js'
import {inventoryModules, type InventoryModules} from '../../src/apply/inventory-modules.js'
import {defaultKaopsdPath} from '../../src/plan/kaopsd-artifact.js'

const INVENTORY = join(import.meta.dirname, '..', '..', 'inventories', 'lab.yaml')
let skipAll: string | undefined
let mods: InventoryModules | undefined
let lab: {labUp: (p: string) => Promise<unknown>; labDown: (p: string) => Promise<unknown>} | undefined

before(async () => {
  if (process.getuid?.() !== 0) return void (skipAll = 'needs root (network namespaces, containers)')
  try {
    mods = await inventoryModules()
    lab = (await import('../../src/lab/lab.js')) as typeof lab
  } catch (error) {
    return void (skipAll = `the inventory loader, renderer or lab library is not available yet: ${(error as Error).message}`)
  }
  try {
    await lab!.labUp(INVENTORY)
  } catch (error) {
    skipAll = `the lab does not come up here: ${(error as Error).message}`
  }
})

after(async () => {
  if (lab && !skipAll) await lab.labDown(INVENTORY).catch(() => undefined)
})

const daemonMissing = () => (existsSync(defaultKaopsdPath()) ? undefined : `kaopsd is not built yet (${defaultKaopsdPath()}): directors cannot be applied`)

test('first apply creates a release and switches; a second apply changes nothing', async (t) => {
  const why = skipAll ?? daemonMissing()
  if (why) return t.skip(why)
  const first = await runApply(INVENTORY, mods!, {parallel: 4})
  assert.ok(first.result, 'the first apply had changes')
  assert.equal(first.result.ok, true, JSON.stringify(first.result.hosts, null, 1))
  for (const h of first.result.hosts) assert.match(h.release_after ?? '', /^\d{8}T\d{6}Z-[0-9a-f]{8}$/, h.host)
  const second = await runApply(INVENTORY, mods!, {parallel: 4})
  assert.equal(second.skipped, 'no-changes')
  const rel = await runReleases(INVENTORY, mods!)
  for (const h of rel) if (h.releases.length) assert.equal(h.releases.filter((r) => r.current).length, 1, h.host)
})

test('two applies at once: the second stops naming the lock holder', async (t) => {
  const why = skipAll ?? daemonMissing()
  if (why) return t.skip(why)
  t.skip('needs a change to apply while the first apply holds the locks; written with the daemon (pending)')
})

test('rollback restores the previous release byte for byte', async (t) => {
  const why = skipAll ?? daemonMissing()
  if (why) return t.skip(why)
  const r = await runRollback(INVENTORY, mods!, {parallel: 4})
  // After one apply there is no older release: rollback must refuse cleanly, naming the host.
  if (!r.ok) assert.match(JSON.stringify(r.hosts), /no release older than the current one|no current release/)
})

test('config kaopsd rejects, SSH cut mid-upload, VIP probe every 20 ms', async (t) => {
  t.skip('needs the kaopsd daemon (config test, status --json) and the lab client probe: pending')
})
