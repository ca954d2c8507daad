// `kaops import --host` reading the LVS-DR real servers: what the probe's output means (prepared,
// VIP missing, arp_ignore 0, unreachable), folded into an imported inventory, against fake hosts.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {memoryConfigFs} from '../../src/daemon/config/index.js'
import {mapInventory, readDirectorConfig, type DirectorSource} from '../../src/import/index.js'
import {
  applyRealServerOutcomes,
  drRealServers,
  judgeRealServer,
  parseRealServerProbe,
  readRealServers,
  realServerProbeScript,
  type RealServerHost,
} from '../../src/import/real-servers.js'
import {checkInventoryText} from '../../src/inventory/load.js'
import type {SshTarget} from '../../src/model/desired-state.js'
import {KaopsError} from '../../src/model/errors.js'
import {ExitCode} from '../../src/model/exit-codes.js'
import {renderHosts} from '../../src/render/render-hosts.js'
import {importedInventoryYaml} from '../../src/import/inventory-yaml.js'
import {SETUPS} from './import-fixtures.js'
import {kaops} from './kaops-dev.js'

const VIP = '198.18.2.100'

/** What the probe prints on a host with these settings (the shape of `ip -o addr show dev lo`). */
function probeOutput(host: {lo: string[]; arp: Record<string, [number, number]>; ipFails?: boolean}): string {
  const lines = ['KAOPS-RS 1']
  for (const [i, [g, a]] of Object.entries(host.arp)) lines.push(`S ${i} ${g} ${a}`)
  if (host.ipFails) lines.push('LERR')
  else host.lo.forEach((cidr, n) => lines.push(`L 1: lo    inet${cidr.includes(':') ? '6' : ''} ${cidr} scope ${n === 0 ? 'host' : 'global'} lo\\       valid_lft forever preferred_lft forever`))
  lines.push('END', '')
  return lines.join('\n')
}

// The seeds' preparation: the VIP on lo, all and lo at arp_ignore 1 / arp_announce 2.
const PREPARED = {lo: ['127.0.0.1/8', `${VIP}/32`], arp: {all: [1, 2], default: [0, 0], eth0: [0, 0], lo: [1, 2]} as Record<string, [number, number]>}
const VIP_MISSING = {...PREPARED, lo: ['127.0.0.1/8']}
const ARP_IGNORE_0 = {...PREPARED, arp: {all: [0, 2], default: [0, 0], eth0: [0, 0], lo: [1, 2]} as Record<string, [number, number]>}

test('a real server prepared as the seeds do it is prepared', () => {
  const probe = parseRealServerProbe(probeOutput(PREPARED))
  assert.deepEqual(probe.loAddresses, ['127.0.0.1/8', `${VIP}/32`])
  assert.deepEqual(probe.arp.all, {ignore: 1, announce: 2})
  assert.deepEqual(judgeRealServer([VIP], probe), {prepared: true, missing: []})
})

test('the setting in effect is max(all, interface): set on eth0 alone counts, lo alone does not', () => {
  const onEth0 = parseRealServerProbe(probeOutput({...PREPARED, arp: {all: [0, 0], eth0: [1, 2], lo: [0, 0]}}))
  assert.equal(judgeRealServer([VIP], onEth0).prepared, true)
  // Requests for the VIP come in on eth0: lo's own value does not keep eth0 from answering.
  const onLoOnly = parseRealServerProbe(probeOutput({...PREPARED, arp: {all: [0, 0], eth0: [0, 0], lo: [1, 2]}}))
  const v = judgeRealServer([VIP], onLoOnly)
  assert.equal(v.prepared, false)
  assert.match(v.missing.join('\n'), /arp_ignore in effect is not 1 \(eth0 0/)
  assert.match(v.missing.join('\n'), /arp_announce in effect is not 2 \(eth0 0/)
  // A second interface left answering is named too.
  const twoNics = parseRealServerProbe(probeOutput({...PREPARED, arp: {all: [0, 0], eth0: [1, 2], eth1: [0, 2], lo: [1, 2]}}))
  assert.match(judgeRealServer([VIP], twoNics).missing.join('\n'), /arp_ignore in effect is not 1 \(eth1 0;/)
})

test('a VIP missing on lo is named; every VIP of its DR services must be there', () => {
  const v = judgeRealServer([VIP], parseRealServerProbe(probeOutput(VIP_MISSING)))
  assert.deepEqual(v, {prepared: false, missing: [`VIP ${VIP} is not on lo`]})
  const two = judgeRealServer([VIP, '198.18.2.101'], parseRealServerProbe(probeOutput(PREPARED)))
  assert.deepEqual(two.missing, ['VIP 198.18.2.101 is not on lo'])
  // The VIP on eth0 instead of lo is not a DR preparation (it would own the VIP outright).
  const onEth = probeOutput(VIP_MISSING).replace('END', `L 2: eth0    inet ${VIP}/32 scope global eth0`)
  assert.equal(judgeRealServer([VIP], parseRealServerProbe(`${onEth}\nEND\n`)).prepared, false)
})

test('arp_ignore 0 on all: not prepared, and the warning says it answers ARP for the VIP', () => {
  const v = judgeRealServer([VIP], parseRealServerProbe(probeOutput(ARP_IGNORE_0)))
  assert.equal(v.prepared, false)
  assert.equal(v.missing.length, 1)
  assert.match(v.missing[0]!, /arp_ignore in effect is not 1 \(eth0 0; net\.ipv4\.conf\.all\.arp_ignore is 0\): it answers ARP for the VIP/)
})

test('ip failing, /proc unreadable, or a cut-short report: never taken for prepared', () => {
  assert.match(judgeRealServer([VIP], parseRealServerProbe(probeOutput({...PREPARED, ipFails: true}))).missing[0]!, /could not be read/)
  assert.match(judgeRealServer([VIP], parseRealServerProbe(probeOutput({...PREPARED, arp: {}}))).missing.join(), /all\.arp_ignore\/arp_announce could not be read/)
  assert.throws(() => parseRealServerProbe('KAOPS-RS 1\nS all 1 2\n'), /cut short/)
  assert.throws(() => parseRealServerProbe('sh: 1: syntax error\n'), /not a kaops real-server probe report/)
})

test('the probe script runs under sh here and reports this machine\'s lo and ARP settings', () => {
  const r = spawnSync('sh', ['-c', realServerProbeScript()], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  const probe = parseRealServerProbe(r.stdout)
  assert.ok(probe.arp.all && probe.arp.lo, `all and lo read from /proc/sys: ${r.stdout}`)
  assert.ok(probe.loAddresses.includes('127.0.0.1/8'), `lo's address read: ${r.stdout}`)
})

async function lvsDrImport() {
  const files = SETUPS[0]!.files
  const fs = memoryConfigFs(files)
  const sources: DirectorSource[] = await Promise.all(Object.keys(files).map((f) => readDirectorConfig(f, fs)))
  return mapInventory(sources)
}

/** A fake login per host: its probe output, or the error RemoteHost.connect would throw. */
function fakeLogins(hosts: Record<string, string | KaopsError>, seen: Array<{target: SshTarget; command: string; privileged?: boolean}>) {
  return async (target: SshTarget): Promise<RealServerHost> => {
    const h = hosts[target.host]
    if (h === undefined) throw new Error(`test: unexpected login to ${target.host}`)
    if (h instanceof KaopsError) throw h
    return {
      exec: async (command, opts) => {
        seen.push({target, command, ...(opts?.privileged !== undefined ? {privileged: opts.privileged} : {})})
        return {stdout: h, stderr: '', code: 0}
      },
      close: () => undefined,
    }
  }
}

test('import of an LVS-DR pair: the prepared real server gets prepare: true, the other a warning, the inventory stays valid', async () => {
  const r = await lvsDrImport()
  const dr = drRealServers(r.inventory)
  assert.deepEqual(dr, [{name: 'rs-198-18-2-30', host: '198.18.2.30', vips: [VIP]}, {name: 'rs-198-18-2-40', host: '198.18.2.40', vips: [VIP]}])
  const seen: Array<{target: SshTarget; command: string; privileged?: boolean}> = []
  const outcomes = await readRealServers(dr, {
    user: 'ops',
    identityFile: '~/.ssh/id_lb',
    knownHosts: '/etc/kaops/known_hosts',
    connectHost: fakeLogins({'198.18.2.30': probeOutput(PREPARED), '198.18.2.40': probeOutput(ARP_IGNORE_0)}, seen),
  })
  // The directors' login settings, strict known_hosts, no sudo for a read.
  assert.deepEqual(seen.map((s) => [s.target.host, s.target.user, s.target.identityFile, s.target.knownHosts, s.privileged]), [
    ['198.18.2.30', 'ops', '~/.ssh/id_lb', '/etc/kaops/known_hosts', false],
    ['198.18.2.40', 'ops', '~/.ssh/id_lb', '/etc/kaops/known_hosts', false],
  ])
  assert.ok(seen.every((s) => s.command.startsWith('sh -c ')), 'one command per host')
  applyRealServerOutcomes(r, outcomes)

  const rs = r.inventory.realServers as Array<{name: string; prepare: boolean}>
  assert.deepEqual(rs.map((x) => [x.name, x.prepare]), [['rs-198-18-2-30', true], ['rs-198-18-2-40', false]])
  assert.ok(r.notes.some((n) => /rs-198-18-2-30 \(198\.18\.2\.30\) is already prepared for LVS-DR .*prepare: true/.test(n)), r.notes.join('\n'))
  assert.ok(r.notes.some((n) => n.startsWith('real servers rs-198-18-2-40 are imported with prepare: false')), 'the general note names only the one left alone')
  const w = r.warnings.filter((x) => x.where.startsWith('real server'))
  assert.equal(w.length, 1)
  assert.equal(w[0]!.where, 'real server rs-198-18-2-40 (198.18.2.40)')
  assert.match(w[0]!.message, /not prepared for LVS-DR: arp_ignore in effect is not 1 .*prepare: false/)

  // The result is still a valid inventory, and kaops would now manage the prepared one's lo VIP.
  const yaml = importedInventoryYaml(r)
  const checked = checkInventoryText(yaml, 'inventories/rs.yaml', {secrets: {env: {KAOPS_VRRP_PASS_VI_1: '1111'}, readFile: () => '', baseDir: '/'}})
  assert.deepEqual(checked.problems, [], yaml)
  const hosts = renderHosts(checked.inventory!)
  assert.deepEqual(hosts.find((h) => h.name === 'rs-198-18-2-30')!.loopbackVips, [`${VIP}/32`])
  assert.deepEqual(hosts.find((h) => h.name === 'rs-198-18-2-40')!.loopbackVips, [])
})

test('unreachable or unknown host key: a warning naming the host and why, prepare: false, the import goes on', async () => {
  const r = await lvsDrImport()
  const noKey = new KaopsError('host rs-198-18-2-30 (198.18.2.30) has no entry in /etc/kaops/known_hosts; kaops never accepts unknown host keys', {exit: ExitCode.unreachable})
  const down = new KaopsError('host rs-198-18-2-40 (root@198.18.2.40:22): connection timed out', {exit: ExitCode.unreachable})
  const outcomes = await readRealServers(drRealServers(r.inventory), {connectHost: fakeLogins({'198.18.2.30': noKey, '198.18.2.40': down}, [])})
  applyRealServerOutcomes(r, outcomes)
  const rs = r.inventory.realServers as Array<{name: string; prepare: boolean}>
  assert.deepEqual(rs.map((x) => x.prepare), [false, false])
  const w = r.warnings.filter((x) => x.where.startsWith('real server')).map((x) => `${x.where}: ${x.message}`)
  assert.equal(w.length, 2)
  assert.match(w[0]!, /^real server rs-198-18-2-30 \(198\.18\.2\.30\): not read \(.*has no entry in \/etc\/kaops\/known_hosts.*\); imported with prepare: false$/)
  assert.match(w[1]!, /^real server rs-198-18-2-40 \(198\.18\.2\.40\): not read \(.*connection timed out\)/)
  assert.ok(r.notes.some((n) => n.startsWith('real servers are imported with prepare: false')), 'the general note stays as it was')
})

test('a probe that fails on the host (bad exit, garbage) is a warning too, not a prepared server', async () => {
  const r = await lvsDrImport()
  const dr = drRealServers(r.inventory)
  const outcomes = await readRealServers(dr, {
    connectHost: async (t) => ({exec: async () => (t.host === '198.18.2.30' ? {stdout: '', stderr: 'sh: not found', code: 127} : {stdout: 'hello\n', stderr: '', code: 0}), close: () => undefined}),
  })
  applyRealServerOutcomes(r, outcomes)
  assert.deepEqual((r.inventory.realServers as Array<{prepare: boolean}>).map((x) => x.prepare), [false, false])
  const w = r.warnings.filter((x) => x.where.startsWith('real server')).map((x) => x.message)
  assert.match(w[0]!, /the probe exited 127: sh: not found/)
  assert.match(w[1]!, /not a kaops real-server probe report/)
})

test('only DR real servers are probed: NAT ones need nothing from kaops', async () => {
  const files = SETUPS[3]!.files // the unicast pair: a NAT virtual server
  const fs = memoryConfigFs(files)
  const r = mapInventory(await Promise.all(Object.keys(files).map((f) => readDirectorConfig(f, fs))))
  assert.ok(((r.inventory.realServers ?? []) as unknown[]).length > 0, 'the fixture has real servers')
  assert.deepEqual(drRealServers(r.inventory), [])
  // A server in both a DR and a NAT service is probed for the DR VIP alone.
  const inv = {
    realServers: [{name: 'rs1', address: '198.18.9.1/32'}],
    services: [
      {address: '198.18.9.100', forwarding: 'NAT', realServers: [{name: 'rs1'}]},
      {address: '198.18.9.101', forwarding: 'DR', realServers: [{name: 'rs1'}]},
    ],
  }
  assert.deepEqual(drRealServers(inv), [{name: 'rs1', host: '198.18.9.1', vips: ['198.18.9.101']}])
})

test('kaops import documents --no-real-servers in its help and accepts it', () => {
  const help = kaops(['import', '--help'])
  assert.equal(help.status, 0, help.stderr)
  assert.match(help.stdout, /--\[no-\]real-servers\s+with --host, also log in to the LVS-DR real servers/)
  const dir = mkdtempSync(join(tmpdir(), 'kaops-imp-rs-'))
  try {
    const f = join(dir, 'lb1.conf')
    writeFileSync(f, Object.values(SETUPS[0]!.files)[0]!)
    const r = kaops(['import', '--file', f, '--no-real-servers', '--json'])
    assert.equal(r.status, 0, r.stderr)
    assert.match((JSON.parse(r.stdout) as {inventory: string}).inventory, /prepare: false/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
