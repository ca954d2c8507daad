// kaops import --host on real lab hosts: two directors run keepalived 2.2.7 from a hand-written
// keepalived.conf (the seeds' LVS-DR example, with an include); import them over SSH, then plan
// the imported inventory: no VIP moves, and the rendered keepalived.conf means the same.
// Own lab (import-lab.inventory.yaml: kaops-imp0, 198.18.80.0/24), torn down even on failure.
import assert from 'node:assert/strict'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, test} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
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

let skipAll: string | undefined
let lab: typeof import('../../src/lab/lab.js') | undefined
let tmp: string | undefined

before(async () => {
  if (process.getuid?.() !== 0) return void (skipAll = 'needs root (network namespaces, containers)')
  lab = await import('../../src/lab/lab.js')
  tmp = await mkdtemp(join(tmpdir(), 'kaops-import-lab-'))
  try {
    await lab.labDown(INVENTORY)
    await lab.labUp(INVENTORY)
  } catch (error) {
    skipAll = `the lab does not come up here: ${(error as Error).message}`
  }
})

after(async () => {
  if (lab) await lab.labDown(INVENTORY).catch(() => undefined)
  if (tmp) await rm(tmp, {recursive: true, force: true})
})

async function onHost<R>(ip: string, fn: (r: RemoteHost) => Promise<R>): Promise<R> {
  const r = await RemoteHost.connect(sshTarget(ip, ip, SSH, undefined))
  try {
    return await fn(r)
  } finally {
    r.close()
  }
}

test('import --host of two keepalived directors; plan of the result moves no VIP and keeps the config meaning', {timeout: 240_000}, async (t) => {
  if (skipAll) return t.skip(skipAll)
  for (const h of HOSTS) {
    await onHost(h.ip, async (r) => {
      await r.exec('mkdir -p /etc/keepalived/conf.d')
      await r.upload('/etc/keepalived/keepalived.conf', mainConf(h), 0o644)
      await r.upload('/etc/keepalived/conf.d/vrrp.conf', vrrpConf(h), 0o644)
      // This kernel has no IPVS: keepalived runs VRRP only (-P); its virtual_server is still imported.
      await r.upload('/etc/default/keepalived', 'DAEMON_ARGS="--vrrp"\n', 0o644)
      const s = await r.exec('systemctl restart keepalived && systemctl is-active keepalived')
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
  const path = join(tmp!, 'imported.yaml')
  await writeFile(path, importedInventoryYaml(r))

  const env = {KAOPS_VRRP_PASS_VI_1: '1111'}
  const load = (p: string) => loadInventory(p, {secrets: {env, readFile: () => '', baseDir: tmp!}})
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
