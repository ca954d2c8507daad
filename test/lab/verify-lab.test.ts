// `kaops verify` and the failover drill on the real lab (inventories/lab.yaml): a healthy lab
// passes; each broken state is made for real (VIP by hand on the backup, wrong auth_pass on one
// director, arp_ignore missing on a real server, a firewall rule dropping VRRP) and verify names
// it; the drill's graceful and crash faults stay within the protocol's bound + 50 ms and leave
// the cluster as it was.
//
// The lab gets its configuration from `kaops apply` when apply gets kaopsd running there. Until
// kaopsd's VRRP runtime and `kaopsd status` are in, the test prepares the hosts itself from the
// rendered files (sysctl, loopback VIP, firewall, keepalived.conf; the VIP put on dir1 by hand)
// and checks everything that does not need a daemon; the daemon-dependent checks and the drill
// are skipped with the reason. Needs root, systemd-nspawn and debootstrap.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFile, execFileSync} from 'node:child_process'
import {promisify} from 'node:util'
import {labDown, labStatus, labUp} from '../../src/lab/lab.js'
import {readLabSpec, type LabSpec} from '../../src/lab/lab-spec.js'
import {labExec, writeToHost} from '../../src/lab/host-access.js'
import {loadInventory} from '../../src/inventory/load.js'
import {renderHosts} from '../../src/render/render-hosts.js'
import {verifyInventory} from '../../src/verify/run-verify.js'
import {runFailoverDrill} from '../../src/verify/drill-run.js'
import type {CheckResult} from '../../src/model/verify.js'
import {netnsName} from '../../src/lab/paths.js'
import {whyNotHere} from './helpers/preconditions.js'

const INVENTORY = 'inventories/lab.yaml'
const VIP = '198.18.0.100'

const whyCannotRun = () => whyNotHere('network namespaces, containers', ['systemd-nspawn', 'debootstrap', 'ssh'])

async function sh(spec: LabSpec, host: string, script: string): Promise<string> {
  const r = await labExec(spec, host, ['sh', '-c', script])
  if (r.code !== 0) throw new Error(`${host}: ${script}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

/**
 * sysctl from this machine into the host's network namespace: nspawn mounts /proc/sys read-only
 * inside the containers, the namespace's net.* keys are writable from outside.
 */
function netnsSysctl(host: string, settings: string[]): void {
  execFileSync('ip', ['netns', 'exec', netnsName(host), 'sysctl', '-q', '-w', ...settings], {stdio: ['ignore', 'pipe', 'pipe']})
}

/** Try `kaops apply`; true when kaopsd then answers `status --json` on both directors. */
async function applyAndProbe(spec: LabSpec, diag: (s: string) => void): Promise<{ok: boolean; why: string}> {
  try {
    const r = await promisify(execFile)(process.execPath, ['bin/dev.js', 'apply', INVENTORY, '--yes'], {timeout: 300_000, maxBuffer: 16 << 20}).catch((e: {stdout?: string; stderr?: string; message: string}) => e)
    diag(`kaops apply: ${('stderr' in r ? (r.stderr ?? '') : '').trim().split('\n').slice(-3).join(' | ')}`)
  } catch (error) {
    return {ok: false, why: `kaops apply failed: ${(error as Error).message}`}
  }
  for (const d of ['dir1', 'dir2']) {
    const r = await labExec(spec, d, ['sh', '-c', '/opt/kaops/current/kaopsd status --json'])
    if (r.code !== 0) return {ok: false, why: `kaopsd status does not answer on ${d} after kaops apply (${(r.stderr || r.stdout).trim().split('\n')[0]})`}
  }
  return {ok: true, why: ''}
}

const get = (cs: CheckResult[], id: string, subject?: string): CheckResult => {
  const c = cs.find((x) => x.id === id && (subject === undefined || x.subject === subject))
  assert.ok(c, `no ${id} ${subject ?? ''} in ${cs.map((x) => `${x.id} ${x.subject}`).join(', ')}`)
  return c
}

test('kaops verify on the lab: healthy passes, each broken state is named; the drill', {timeout: 20 * 60_000}, async (t) => {
  const why = whyCannotRun()
  if (why) {
    t.skip(why)
    return
  }
  const spec = await readLabSpec(INVENTORY)
  const before = await labStatus(INVENTORY).catch(() => undefined)
  const wasUp = before?.hosts.every((h) => h.running && h.sshd) ?? false
  t.after(async () => {
    // Only take down a lab this test brought up (another session may be using a running one).
    if (!wasUp) await labDown(INVENTORY).catch(() => {})
  })
  // Another lab command (a bench on its own bridge) may hold the lab lock for a while: wait.
  for (let i = 0; ; i++) {
    try {
      await labUp(INVENTORY, {progress: (l) => t.diagnostic(l)})
      break
    } catch (error) {
      if (i >= 36 || !/another kaops lab command/.test((error as Error).message)) throw error
      await new Promise((r) => setTimeout(r, 5000))
    }
  }

  const applied = await applyAndProbe(spec, (s) => t.diagnostic(s))
  // Everything below needs kaopsd applied and running: a failed apply is a failure, not a skip.
  assert.ok(applied.ok, `kaops apply on the lab failed: ${applied.why}`)
  // The service's real servers need a web server so kaopsd's HTTP_GET checkers see them up; the
  // lab image may already run one on port 80: start ours only when nothing answers there.
  for (const w of ['web1', 'web2']) await sh(spec, w, 'curl -s -o /dev/null --max-time 2 http://127.0.0.1:80/ || systemd-run --unit kaops-test-web --quiet python3 -m http.server 80 --bind 0.0.0.0 --directory /tmp')
  t.after(async () => {
    for (const w of ['web1', 'web2']) await sh(spec, w, 'systemctl stop kaops-test-web 2>/dev/null; true').catch(() => undefined)
  })
  /** After a broken state is repaired: wait until only dir1 holds the VIP again. */
  const settled = async () => {
    for (let i = 0; i < 60; i++) {
      const d2 = await sh(spec, 'dir2', 'ip -o addr show dev eth0')
      const d1 = await sh(spec, 'dir1', 'ip -o addr show dev eth0')
      if (!d2.includes(`${VIP}/`) && d1.includes(`${VIP}/`)) return
      await new Promise((r) => setTimeout(r, 250))
    }
    throw new Error('the lab did not settle back to dir1 holding the VIP alone')
  }
  const verify = async () => (await verifyInventory(INVENTORY, {statusGapSeconds: 2})).report.checks
  const hasArping = (await labExec(spec, 'client', ['sh', '-c', 'command -v arping'])).code === 0

  await t.test('a healthy lab passes', async () => {
    await new Promise((r) => setTimeout(r, 6000)) // kaopsd's checkers see the web servers (delay_loop 3)
    const cs = await verify()
    for (const c of cs) t.diagnostic(`${c.status} ${c.id} ${c.subject}: ${c.message}`)
    for (const id of ['rs.lo-vip', 'rs.arp-sysctl', 'firewall.vrrp', 'vip.placement']) for (const c of cs.filter((x) => x.id === id)) assert.equal(c.status, 'pass', `${c.id} ${c.subject}: ${c.message}`)
    assert.equal(get(cs, 'arp.owner').status, 'pass', get(cs, 'arp.owner').message)
    if (hasArping) assert.equal(get(cs, 'arp.owner').evidence.method, 'arping')
    assert.deepEqual(cs.filter((c) => c.status === 'fail').map((c) => `${c.id} ${c.subject}: ${c.message}`), [])
  })

  await t.test('VIP added by hand on the backup: split brain', async () => {
    await sh(spec, 'dir2', `ip addr add ${VIP}/24 dev eth0`)
    try {
      const c = get(await verify(), 'vip.placement')
      assert.equal(c.status, 'fail')
      assert.match(c.message, /split brain: 198\.18\.0\.100\/24 held by dir1 and dir2/)
    } finally {
      await sh(spec, 'dir2', `ip addr del ${VIP}/24 dev eth0`)
      await settled()
    }
  })

  await t.test('wrong auth_pass on one director: named without showing it', async () => {
    const conf = '/etc/kaopsd/keepalived.conf'
    await sh(spec, 'dir2', `cp -p ${conf} ${conf}.kaops-test && sed -i 's/auth_pass .*/auth_pass wrong-pw/' ${conf} && systemctl reload kaopsd`)
    try {
      await new Promise((r) => setTimeout(r, 2500))
      const cs = await verify()
      const agree = get(cs, 'vrrp.peers-agree')
      assert.equal(agree.status, 'fail')
      assert.match(agree.message, /auth_pass \(dir1: sha256:\w+, dir2: sha256:\w+\)/)
      assert.ok(!JSON.stringify(cs).includes('wrong-pw'))
      assert.equal(get(cs, 'kaopsd.config', 'dir2').status, 'fail')
      assert.match(cs.filter((c) => c.id === 'vrrp.rx-errors').map((c) => c.message).join(' '), /auth_failure/)
    } finally {
      await sh(spec, 'dir2', `mv -f ${conf}.kaops-test ${conf} && systemctl reload kaopsd`)
      await settled()
    }
  })

  await t.test('arp_ignore missing on a real server: named, and it answers ARP for the VIP', async () => {
    const eth0 = (await sh(spec, 'web1', 'cat /proc/sys/net/ipv4/conf/eth0/arp_ignore')).trim()
    netnsSysctl('web1', ['net.ipv4.conf.all.arp_ignore=0', 'net.ipv4.conf.eth0.arp_ignore=0'])
    try {
      const cs = await verify()
      assert.match(get(cs, 'rs.arp-sysctl', 'web1').message, /net\.ipv4\.conf\.all\.arp_ignore=0 \(want 1\)/)
      if (hasArping) assert.match(get(cs, 'arp.owner').message, /web1\/eth0 .* answers ARP for 198\.18\.0\.100/)
    } finally {
      netnsSysctl('web1', ['net.ipv4.conf.all.arp_ignore=1', `net.ipv4.conf.eth0.arp_ignore=${eth0}`])
    }
  })

  await t.test('a firewall rule dropping VRRP: named', async () => {
    await sh(spec, 'dir2', "nft add table inet kaops_test_block && nft add chain inet kaops_test_block input '{ type filter hook input priority -20; policy accept; }' && nft add rule inet kaops_test_block input ip protocol 112 drop")
    try {
      await new Promise((r) => setTimeout(r, 4000))
      const cs = await verify()
      assert.match(get(cs, 'firewall.vrrp', 'dir2').message, /table inet kaops_test_block chain input blocks VRRP/)
      // Deaf to dir1's adverts, dir2 takes the VIP too after its Master_Down_Interval.
      assert.match(get(cs, 'vip.placement').message, /split brain/)
    } finally {
      await sh(spec, 'dir2', 'nft delete table inet kaops_test_block')
      await settled() // dir2 hears dir1 again and steps down
    }
  })

  await t.test('failover drill: graceful and crash within bound + 50 ms, cluster back', async (st) => {
    await new Promise((r) => setTimeout(r, 5000)) // let the last broken state's effects settle
    const {report} = await runFailoverDrill(INVENTORY, {faults: ['graceful', 'crash'], toleranceMs: 50, progress: (l) => st.diagnostic(l)})
    for (const r of report.results) {
      st.diagnostic(`${r.fault}: advert ${r.takeover.firstAdvertMs} ms (bound ${r.takeover.boundMs}), outage ${r.takeover.outage.durationMs} ms; ${r.takeover.reasons.join('; ')}`)
      assert.equal(r.takeover.verdict, 'PASS', r.takeover.reasons.join('; '))
      assert.ok(r.takeover.firstAdvertMs! <= r.takeover.boundMs + 50)
      assert.ok(r.restored.ok, r.restored.message)
    }
    assert.equal(report.results.length, 2)
    const after = await verify()
    assert.equal(get(after, 'vip.placement').status, 'pass', get(after, 'vip.placement').message)
  })
})
