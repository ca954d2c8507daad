import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {faultPlan, holdsScript, probePython, parseData, parseT, startProbeScript, stopScript} from '../../src/verify/drill-scripts.js'
import {DEFAULT_DRILL_PLAYBOOK, loadDrillPlaybook, parseDrillPlaybook} from '../../src/verify/drill-playbook.js'
import {buildArpScript, buildFactsScript, parseArpOutput, parseFactsOutput, parseLinkMacs} from '../../src/verify/facts-script.js'
import {parseAddrMonitor, parseProbeLog} from '../../src/verify/drill-logs.js'

const shOk = (script: string) => execFileSync('sh', ['-n'], {input: script}) // syntax only: never run on this machine

test('every generated script is valid POSIX sh', () => {
  for (const f of ['graceful', 'crash', 'link', 'track'] as const) {
    const p = faultPlan(f, {iface: 'eth0', linkDownSeconds: 9, trackScript: '/usr/local/bin/chk web', tag: 't1'})
    shOk(p.inject)
    shOk(p.restore)
  }
  shOk(startProbeScript('t1', '198.18.0.100', 80, 10, 100, 60))
  shOk(stopScript('t1', 'capture', 'pcap'))
  shOk(holdsScript('198.18.0.100'))
  shOk(buildFactsScript(2))
  shOk(buildArpScript(['198.18.0.100']))
})

test('fault plans: crash keeps systemd from restarting it, link restores itself, track swaps the script back', () => {
  const crash = faultPlan('crash', {iface: 'eth0', linkDownSeconds: 9, tag: 't'})
  assert.match(crash.inject, /Restart=no.*\nsystemctl daemon-reload\necho "T \$\(date \+%s%3N\)"\nsystemctl kill -s KILL kaopsd\.service 2>\/dev\/null \|\| true\n.*survived SIGKILL/s)
  assert.match(crash.restore, /rm -f \/run\/systemd\/system\/kaopsd\.service\.d\/kaops-drill\.conf/)
  const link = faultPlan('link', {iface: 'eth0', linkDownSeconds: 9, tag: 't'})
  assert.equal(link.selfRestoreSeconds, 9)
  assert.match(link.inject, /ip link set dev eth0 down; sleep 9; ip link set dev eth0 up/)
  const tr = faultPlan('track', {iface: 'eth0', linkDownSeconds: 9, trackScript: '/etc/kaopsd/chk.sh', tag: 'x'})
  assert.match(tr.inject, /mv -f \/etc\/kaopsd\/chk\.sh \/etc\/kaopsd\/chk\.sh\.kaops-drill-x/)
  assert.match(tr.restore, /mv -f \/etc\/kaopsd\/chk\.sh\.kaops-drill-x \/etc\/kaopsd\/chk\.sh/)
  assert.throws(() => faultPlan('track', {iface: 'eth0', linkDownSeconds: 9, tag: 'x'}), /no track script/)
})

test('the probe (python3 branch) measures against loopback: refused counts as answered', (t) => {
  try {
    execFileSync('python3', ['--version'])
  } catch {
    t.skip('python3 not installed here')
    return
  }
  const py = probePython('127.0.0.1', 9, 10, 100, 1)
  const out = execFileSync('python3', ['-c', py], {encoding: 'utf8', timeout: 5000})
  const ev = parseProbeLog(out)
  assert.ok(ev.length > 20, `only ${ev.length} probes in 1 s`)
  assert.ok(ev.every((e) => e.kind === 'probe' && e.ok))
})

test('the drill playbook in the tree loads; bad ones name file:line', async () => {
  const steps = await loadDrillPlaybook(DEFAULT_DRILL_PLAYBOOK)
  assert.deepEqual(steps.slice(0, 4).map((s) => s.action), ['check-healthy', 'start-address-monitor', 'start-capture', 'start-probe'])
  assert.deepEqual(steps[3]!.params, {interval_ms: 10, timeout_ms: 100})
  const head = 'apiVersion: kaops/v1\nkind: DrillPlaybook\nname: x\nsteps:\n'
  assert.throws(() => parseDrillPlaybook(`${head}  - action: inject-fault\n  - action: reboot\n`, 'p.yaml'), /p\.yaml:6: unknown drill action "reboot"/)
  assert.throws(() => parseDrillPlaybook(`${head}  - action: inject-fault\n  - action: wait\n    with: {seconds: 3}\n  - action: restore\n`, 'p.yaml'), /p\.yaml:6: wait takes no parameter seconds \(it takes ms\)/)
  assert.throws(() => parseDrillPlaybook(`${head}  - action: inject-fault\n`, 'p.yaml'), /needs a restore step/)
})

test('facts output: two status reads, gap, MACs; ARP answers from iputils arping and ip neigh', () => {
  const st = (n: number) => Buffer.from(JSON.stringify({format_version: 1, instances: [{name: 'VI_1', stats: {advert_sent: n}}], virtualServers: []})).toString('base64')
  const link = Buffer.from('1: lo: <LOOPBACK,UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\\    link/ether 7A:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff link-netnsid 0\n').toString('base64')
  const f = parseFactsOutput('dir1', `KAOPS-VERIFY 1\nST1 ${st(1)}\nST2 ${st(3)}\nGAP 2004\nL ${link}\nNFT -\nIPT -\nEND\n`)
  assert.equal(f.gapMs, 2004)
  assert.equal(f.status2!.instances[0]!.stats.advert_sent, 3)
  assert.deepEqual(f.macs, {eth0: '7a:1b:2c:3d:4e:5f'})
  assert.throws(() => parseFactsOutput('dir1', 'KAOPS-VERIFY 1\nST1 -\n'), /dir1: verify facts: truncated/)
  assert.deepEqual(parseLinkMacs('3: kv-dir1@if2: <UP> mtu 1500\\    link/ether 02:aa:bb:cc:dd:ee brd ff:ff:ff:ff:ff:ff'), {'kv-dir1': '02:aa:bb:cc:dd:ee'})
  const ip = 'ARPING 198.18.0.100 from 198.18.0.31 eth0\nUnicast reply from 198.18.0.100 [02:00:00:00:00:11]  0.611ms\nUnicast reply from 198.18.0.100 [02:00:00:00:00:21]  0.702ms\nSent 2 probes (1 broadcast(s))\nReceived 2 response(s)\n'
  const neigh = '198.18.0.100 dev eth0 lladdr 02:00:00:00:00:11 REACHABLE\n'
  const out = `KAOPS-ARP 1\nARP 198.18.0.100 arping ${Buffer.from(ip).toString('base64')}\nARP 198.18.0.101 neigh ${Buffer.from(neigh).toString('base64')}\nEND\n`
  const a = parseArpOutput(out)
  assert.deepEqual(a.map((x) => [x.address, x.method, x.macs]), [
    ['198.18.0.100', 'arping', ['02:00:00:00:00:11', '02:00:00:00:00:21']],
    ['198.18.0.101', 'neigh', ['02:00:00:00:00:11']],
  ])
})

test('address monitor lines in UTC, DATA and T lines', () => {
  const ev = parseAddrMonitor('dir2', '[2026-11-23T09:50:01.123456] 2: eth0    inet 198.18.0.100/24 scope global secondary eth0\n[2026-11-23T09:50:02.5] Deleted 2: eth0    inet 198.18.0.100/24 scope global secondary eth0\n[2026-11-23T09:50:03.0] 2: eth0    inet 198.18.0.7/24 scope global eth0\n', ['198.18.0.100'])
  assert.deepEqual(ev, [
    {t: Date.parse('2026-11-23T09:50:01.123Z') + 0.456, kind: 'vip-add', host: 'dir2', address: '198.18.0.100'},
    {t: Date.parse('2026-11-23T09:50:02.500Z'), kind: 'vip-del', host: 'dir2', address: '198.18.0.100'},
  ])
  assert.equal(parseData('x\nDATA aGk=\n').toString(), 'hi')
  assert.equal(parseData('DATA -\n').length, 0)
  assert.equal(parseT('T 1800000000123\n'), 1800000000123)
})
