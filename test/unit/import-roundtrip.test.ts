import assert from 'node:assert/strict'
import {test} from 'node:test'
import {memoryConfigFs, parseConfigText} from '../../src/daemon/config/index.js'
import {importedInventoryYaml, mapInventory, readDirectorConfig, type DirectorSource} from '../../src/import/index.js'
import {checkInventoryText} from '../../src/inventory/load.js'
import type {KeepalivedConfig, VirtualServerConfig, VrrpInstanceConfig} from '../../src/model/keepalived-config.js'
import {renderHosts} from '../../src/render/render-hosts.js'
import {KAOPSD_CONFIG_PATH} from '../../src/render/paths.js'
import {SETUPS, UNMAPPED, type Setup} from './import-fixtures.js'

/**
 * Import -> inventory -> render -> parse again must keep the VRRP and LVS meaning of every
 * director's original keepalived.conf (comments, order and the initial `state` aside: the
 * election is decided by priority either way).
 */

async function sources(files: Record<string, string>): Promise<DirectorSource[]> {
  const fs = memoryConfigFs(files)
  return Promise.all(Object.keys(files).map((f) => readDirectorConfig(f, fs)))
}

function instanceMeaning(i: VrrpInstanceConfig, scripts: KeepalivedConfig['vrrpScripts']) {
  return {
    vrid: i.virtualRouterId,
    interface: i.interface,
    priority: i.priority,
    advert: i.advertIntervalMs,
    version: i.version,
    auth: i.authentication,
    vips: i.virtualIpAddresses.map((a) => [a.address, a.prefixLength, a.dev, a.label, a.broadcast].join(' ')).sort(),
    nopreempt: i.nopreempt,
    preemptDelay: i.preemptDelayMs,
    peers: i.unicastPeers.map((p) => p.address).sort(),
    unicastSrc: i.unicastSrcIp,
    track: i.trackScripts.map((r) => {
      const s = scripts.find((x) => x.name === r.name)!
      return {script: s.script?.command, interval: s.intervalMs, weight: r.weight ?? s.weight, fall: s.fall, rise: s.rise}
    }),
    notify: [i.notifyMaster, i.notifyBackup, i.notifyFault, i.notifyStop, i.notify].map((c) => c?.command),
  }
}

function vsMeaning(v: VirtualServerConfig) {
  const {source: _s, realServers, ...rest} = v
  return {
    ...rest,
    realServers: realServers
      .map((r) => ({
        address: r.address,
        port: r.port,
        weight: r.weight,
        inhibit: r.inhibitOnFailure,
        checkers: r.checkers.map((c) => {
          const {source: _cs, ...crest} = c as typeof c & {urls?: Array<{source: unknown}>}
          return JSON.parse(JSON.stringify(crest, (k, val) => (k === 'source' ? undefined : val)))
        }),
      }))
      .sort((a, b) => a.address.localeCompare(b.address)),
  }
}

function meaning(c: KeepalivedConfig) {
  return {
    instances: c.vrrpInstances.map((i) => instanceMeaning(i, c.vrrpScripts)).sort((a, b) => a.vrid - b.vrid),
    virtualServers: c.virtualServers.map(vsMeaning),
  }
}

async function roundTrip(setup: Setup) {
  const src = await sources(setup.files)
  const imported = mapInventory(src, {name: 'rt'})
  const yaml = importedInventoryYaml(imported)
  const env: Record<string, string> = {}
  for (const {env: name, vip} of imported.secretEnv) env[name] = setup.passwords[vip]!
  const checked = checkInventoryText(yaml, 'inventories/rt.yaml', {secrets: {env, readFile: () => '', baseDir: '/'}})
  assert.deepEqual(checked.problems, [], `${setup.name}: the imported inventory is valid\n${yaml}`)
  const hosts = renderHosts(checked.inventory!)
  const names = (imported.inventory.directors as Array<{name: string}>).map((d) => d.name)
  return {src, imported, yaml, hosts, names}
}

for (const setup of SETUPS) {
  test(`import round trip keeps the VRRP/LVS meaning: ${setup.name}`, async () => {
    const {src, imported, yaml, hosts, names} = await roundTrip(setup)
    assert.equal(names.length, Object.keys(setup.files).length)
    for (const [i, name] of names.entries()) {
      const host = hosts.find((h) => h.name === name)!
      const conf = host.files.find((f) => f.path === KAOPSD_CONFIG_PATH)!.content
      const back = await parseConfigText(conf, '/rendered/keepalived.conf', {configId: ''})
      assert.deepEqual(back.diagnostics.filter((d) => d.severity === 'error'), [], `${name}: rendered config parses cleanly`)
      assert.deepEqual(meaning(back.config), meaning(src[i]!.config), `${setup.name}: ${name}'s rendered keepalived.conf means the same\n${conf}`)
    }
    // The secret is referenced, never written.
    for (const pw of Object.values(setup.passwords)) assert.ok(!yaml.includes(`auth_pass ${pw}`) && !new RegExp(`:\\s*${pw}\\b`).test(yaml), 'no secret in the inventory')
    assert.ok(imported.notes.some((n) => n.includes('export KAOPS_VRRP_PASS_VI_1')), 'the operator is told to export the secret')
  })
}

test('import: unmapped statements become WARNING lines naming file:line and raw lines, never dropped', async () => {
  const src = await sources({'/imp/odd/keepalived.conf': UNMAPPED})
  const r = mapInventory(src)
  const yaml = importedInventoryYaml(r)
  const w = (s: string) => r.warnings.find((x) => x.message.includes(s))
  assert.equal(w('vrrp_strict')?.where, '/imp/odd/keepalived.conf:3')
  assert.equal(w('static_ipaddress')?.where, '/imp/odd/keepalived.conf:6')
  assert.equal(w('use_vmac')?.where, '/imp/odd/keepalived.conf:14')
  assert.equal(w('a fwmark virtual_server')?.where, '/imp/odd/keepalived.conf:19')
  const d = (r.inventory.directors as Array<{name: string; raw?: string[]}>)[0]!
  assert.equal(d.name, 'odd')
  assert.ok(d.raw?.includes('static_ipaddress {') && d.raw.includes('virtual_server fwmark 7 {'), 'top-level blocks carried whole')
  assert.deepEqual((r.inventory.vips as Array<{raw?: string[]}>)[0]!.raw, ['use_vmac'])
  assert.deepEqual((r.inventory.keepalived as {globalDefs: string[]}).globalDefs, ['vrrp_strict', 'vrrp_garp_interval 0.001'])
  assert.match(yaml, /# WARNING \/imp\/odd\/keepalived.conf:3: /)
  const checked = checkInventoryText(yaml, 'odd.yaml', {secrets: false})
  assert.deepEqual(checked.problems, [], 'still a valid inventory')
  const conf = renderHosts(checked.inventory!)[0]!.files.find((f) => f.path === KAOPSD_CONFIG_PATH)!.content
  const back = await parseConfigText(conf, '/r/keepalived.conf', {configId: ''})
  assert.equal(back.config.virtualServers[0]?.target.kind, 'fwmark', 'the raw virtual_server is rendered')
  assert.equal(back.config.staticIpAddresses.length, 1)
  assert.equal(back.config.globalDefs.vrrpStrict, true)
  assert.ok(back.config.vrrpInstances[0]!.useVmac, 'use_vmac survives')
})
