// The way in from keepalived, on real lab hosts: two directors run keepalived 2.2.7 from a
// hand-written keepalived.conf (the seeds' LVS-DR example, with an include) and a real server is
// prepared by hand as the seeds do. Import them over SSH; plan the imported inventory (no VIP
// moves, the rendered keepalived.conf means the same); apply it, kaopsd replacing keepalived,
// while a client pings the VIP every 20 ms: no ping lost, the VIP where it was; verify passes.
// Own lab (import-lab.inventory.yaml: kaops-imp0, 198.18.80.0/24), torn down even on failure.
import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, test} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {existsSync} from 'node:fs'
import {inventoryModules} from '../../src/apply/inventory-modules.js'
import {runApply} from '../../src/apply/run-apply.js'
import {netnsName} from '../../src/lab/paths.js'
import {defaultKaopsdPath} from '../../src/plan/kaopsd-artifact.js'
import {verifyInventory} from '../../src/verify/run-verify.js'
import {vipHolders} from './helpers/lab-hosts.js'
import {ownLab} from './helpers/own-lab.js'
import {startVipProbe, vipServesHttp} from './helpers/vip-probe.js'
import {parseConfigText} from '../../src/daemon/config/index.js'
import {importFromHosts, importedInventoryYaml} from '../../src/import/index.js'
import {loadInventory} from '../../src/inventory/load.js'
import {runPlan} from '../../src/plan/run-plan.js'
import {KAOPSD_CONFIG_PATH} from '../../src/render/paths.js'
import {renderHosts} from '../../src/render/render-hosts.js'
import {RemoteHost} from '../../src/remote/connection.js'
import {sshTarget} from '../../src/render/ssh-target.js'

const INVENTORY = join(import.meta.dirname, 'import-lab.inventory.yaml')
const HOSTS = [
  {name: 'imp1', ip: '198.18.80.11', state: 'MASTER', prio: 150},
  {name: 'imp2', ip: '198.18.80.12', state: 'BACKUP', prio: 100},
]
const VIP = '198.18.80.100'
const SSH = {user: 'root', identityFile: '~/.cache/kaops/lab/id_ed25519', knownHosts: '~/.cache/kaops/lab/known_hosts-imp'}

const mainConf = (h: (typeof HOSTS)[number]) => `! written by hand, as on the seeds' directors
global_defs {
   router_id ${h.name}
}
include /etc/keepalived/conf.d/*.conf
`
const vrrpConf = (h: (typeof HOSTS)[number]) => `vrrp_instance VI_1 {
    state ${h.state}
    interface eth0
    mcast_src_ip ${h.ip}
    virtual_router_id 51
    priority ${h.prio}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        ${VIP}/24
    }
}

virtual_server ${VIP} 80 {
    delay_loop 6
    lb_algo rr
    lb_kind DR
    persistence_timeout 50
    protocol TCP
    real_server 198.18.80.21 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
`

const REAL_SERVER = {name: 'irs1', ip: '198.18.80.21'}
const CLIENT_NS = netnsName('iclient')

const lab = ownLab(INVENTORY, {name: 'import-lab'})
/** The imported inventory (written by the first test, applied by the second). */
let imported: string | undefined

before(() => lab.up())
after(() => lab.down())

async function onHost<R>(ip: string, fn: (r: RemoteHost) => Promise<R>): Promise<R> {
  const r = await RemoteHost.connect(sshTarget(ip, ip, SSH, undefined))
  try {
    return await fn(r)
  } finally {
    r.close()
  }
}

test('import --host of two keepalived directors; plan of the result moves no VIP and keeps the config meaning', {timeout: 240_000}, async (t) => {
  if (lab.skip) return t.skip(lab.skip)
  // The real server as the seeds prepare one for LVS-DR: the VIP on lo, ARP answered only for
  // addresses on the asking interface and announced from the best local address.
  await onHost(REAL_SERVER.ip, async (r) => {
    const s = await r.exec(`ip addr replace ${VIP}/32 dev lo && sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.lo.arp_ignore=1 net.ipv4.conf.lo.arp_announce=2`)
    assert.equal(s.code, 0, `${REAL_SERVER.name}: prepared by hand: ${s.stderr}`)
  })
  for (const h of HOSTS) {
    await onHost(h.ip, async (r) => {
      await r.exec('mkdir -p /etc/keepalived/conf.d')
    await r.exec('rm -rf /etc/keepalived/conf.d/*')
      await r.upload('/etc/keepalived/keepalived.conf', mainConf(h), 0o644)
      await r.upload('/etc/keepalived/conf.d/vrrp.conf', vrrpConf(h), 0o644)
      // This kernel has no IPVS: keepalived runs VRRP only (-P); its virtual_server is still imported.
      await r.upload('/etc/default/keepalived', 'DAEMON_ARGS="--vrrp"\n', 0o644)
      const s = await r.exec('systemctl enable -q keepalived && systemctl restart keepalived && systemctl is-active keepalived')
      const why = s.code === 0 ? '' : (await r.exec('journalctl -u keepalived -n 15 --no-pager')).stdout
      assert.equal(s.code, 0, `${h.name}: keepalived starts: ${s.stdout}${s.stderr}${why}`)
    })
  }
  // The hand-run pair settles: the VIP on imp1.
  let holder = ''
  for (let i = 0; i < 30 && holder === ''; i++) {
    for (const h of HOSTS) if ((await onHost(h.ip, (r) => r.exec('ip -o addr show dev eth0'))).stdout.includes(` ${VIP}/`)) holder = h.name
    if (holder === '') await sleep(500)
  }
  assert.equal(holder, 'imp1', 'keepalived put the VIP on the MASTER')

  const r = await importFromHosts(HOSTS.map((h) => h.ip), {name: 'imported-lab', ...SSH})
  const inv = r.inventory as Record<string, unknown>
  assert.deepEqual((inv.directors as Array<{name: string; address: string}>).map((d) => [d.name, d.address]), [['imp1', '198.18.80.11/24'], ['imp2', '198.18.80.12/24']], 'names from router_id, addresses with prefix from the host')
  assert.equal((inv.vips as Array<{vrid: number}>)[0]!.vrid, 51, 'the VRRP instance from the included file')
  assert.equal(JSON.stringify(inv).includes('1111'), false, 'no secret in the inventory')
  // The import logged in to the DR real server too and found it prepared by hand as above.
  assert.deepEqual(inv.realServers, [{name: 'rs-198-18-80-21', address: `${REAL_SERVER.ip}/32`, prepare: true}], `${REAL_SERVER.name} imported as prepared: ${JSON.stringify(r.warnings)}`)
  assert.ok(r.notes.some((n) => n.includes(`(${REAL_SERVER.ip}) is already prepared for LVS-DR`)), r.notes.join('\n'))
  const path = join(lab.tmp, 'imported.yaml')
  await writeFile(path, importedInventoryYaml(r))
  imported = path

  const env = {KAOPS_VRRP_PASS_VI_1: '1111'}
  const load = (p: string) => loadInventory(p, {secrets: {env, readFile: () => '', baseDir: lab.tmp}})
  const run = await runPlan(path, {loadInventory: load, renderHosts}, {parallel: 2})
  assert.deepEqual(run.plan.errors, [], 'every director was read')
  assert.deepEqual(run.plan.vrrp.vipMoves, [], 'no VIP moves: the imported priorities keep imp1 the master')

  const loaded = await load(path)
  for (const h of HOSTS) {
    const rendered = renderHosts(loaded).find((x) => x.name === h.name)!.files.find((f) => f.path === KAOPSD_CONFIG_PATH)!.content
    const back = (await parseConfigText(rendered, '/r/keepalived.conf', {configId: ''})).config
    const orig = (await parseConfigText(mainConf(h).replace(/^include.*$/m, '') + vrrpConf(h), '/o/keepalived.conf', {configId: ''})).config
    const i0 = orig.vrrpInstances[0]!
    const i1 = back.vrrpInstances[0]!
    assert.deepEqual([i1.virtualRouterId, i1.priority, i1.advertIntervalMs, i1.authentication, i1.virtualIpAddresses.map((a) => `${a.address}/${a.prefixLength}`)], [i0.virtualRouterId, i0.priority, i0.advertIntervalMs, i0.authentication, i0.virtualIpAddresses.map((a) => `${a.address}/${a.prefixLength}`)], `${h.name}: same VRRP`)
    const strip = (v: unknown) => JSON.parse(JSON.stringify(v, (k, x) => (k === 'source' ? undefined : x)))
    assert.deepEqual(strip(back.virtualServers), strip(orig.virtualServers), `${h.name}: same LVS`)
  }
})

test('apply of the imported inventory: kaopsd replaces keepalived, no VIP moves, no ping to the VIP is lost, verify passes', {timeout: 300_000}, async (t) => {
  if (lab.skip) return t.skip(lab.skip)
  if (!existsSync(defaultKaopsdPath())) return t.skip(`kaopsd is not built (${defaultKaopsdPath()}): run npm run build`)
  assert.ok(imported, 'the import test ran first and wrote the inventory')
  // The inventory refers to the password by environment variable, as import wrote it.
  process.env['KAOPS_VRRP_PASS_VI_1'] = '1111'
  const mods = await inventoryModules()
  assert.deepEqual(await vipHolders(HOSTS.map((h) => h.name), VIP), ['imp1'], 'before: keepalived on imp1 holds the VIP')

  // keepalived runs VRRP only here (no IPVS in this kernel), so the VIP answers pings, not HTTP.
  const watch = startVipProbe(CLIENT_NS, VIP, 'ping')
  await sleep(500)
  const out = await runApply(imported!, mods, {parallel: 2}).catch(async (error: unknown) => {
    await watch.stop().catch(() => undefined)
    throw error
  })
  const counts = await watch.stop()
  const notes = JSON.stringify(out.result?.hosts.map((h) => ({host: h.host, state: h.state, error: h.error, notes: h.notes})), null, 1)
  t.diagnostic(`ping probe during the apply: ${counts.received}/${counts.sent} answered`)
  t.diagnostic(notes)
  assert.equal(out.result?.ok, true, notes)

  for (const h of HOSTS) {
    await onHost(h.ip, async (r) => {
      const ka = (await r.exec('systemctl is-active keepalived; systemctl is-enabled keepalived')).stdout.split('\n').slice(0, 2)
      assert.deepEqual(ka, ['inactive', 'disabled'], `${h.name}: keepalived stopped and disabled`)
      assert.equal((await r.exec('systemctl is-active kaopsd')).stdout.trim(), 'active', `${h.name}: kaopsd runs`)
      assert.equal((await r.exec('test -f /etc/keepalived/conf.d/vrrp.conf')).code, 0, `${h.name}: the hand-written keepalived config is left in place`)
    })
  }
  assert.deepEqual(await vipHolders(HOSTS.map((h) => h.name), VIP), ['imp1'], 'after: the VIP is where it was, on imp1 alone')
  assert.ok(counts.sent > 100, `the probe ran through the apply (${counts.sent} pings)`)
  assert.equal(counts.sent - counts.received, 0, `no ping lost while kaopsd replaced keepalived: ${counts.received}/${counts.sent}`)
  // What keepalived could not do on this kernel, kaopsd's nftables data plane now does: DR to irs1.
  assert.ok(await vipServesHttp(CLIENT_NS, VIP), 'the VIP serves HTTP through kaopsd (DR to the hand-prepared real server)')

  await sleep(3000) // the checkers' first round (delay_loop 6, from the imported config) has run
  const checks = (await verifyInventory(imported!, {statusGapSeconds: 2})).report.checks
  for (const c of checks) t.diagnostic(`${c.status} ${c.id} ${c.subject}: ${c.message}`)
  assert.deepEqual(checks.filter((c) => c.status === 'fail').map((c) => `${c.id} ${c.subject}: ${c.message}`), [], 'verify finds nothing wrong')
  assert.equal((await runPlan(imported!, mods, {parallel: 2})).plan.has_changes, false, 'plan after the apply: nothing left to change')
})
