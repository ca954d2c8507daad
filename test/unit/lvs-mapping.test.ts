import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseConfigText} from '../../src/daemon/config/index.js'
import {expandRange, granularityPrefix, lvsConfigDiagnostics, mapVirtualServers} from '../../src/daemon/core/lvs-mapping.js'
import {CheckSupervisor} from '../../src/daemon/check/check-supervisor.js'
import type {CheckClock} from '../../src/daemon/check/check-loop.js'
import type {LbBackend, VirtualService} from '../../src/daemon/lb/types.js'

const CONF = `
global_defs {
  lvs_backend nftables
}
virtual_server_group WEB {
  198.18.50.10-12 80
  fwmark 7
}
virtual_server 198.18.50.10 80 {
  delay_loop 6
  lb_algo wrr
  lb_kind NAT
  persistence_timeout 50
  persistence_granularity 255.255.255.0
  protocol TCP
  quorum 2
  hysteresis 1
  quorum_up "/bin/true up"
  sorry_server 198.18.51.99 8080
  inhibit_on_failure
  real_server 198.18.51.11 80 {
    weight 3
    notify_down /bin/false
    HTTP_GET {
      url {
        path /health
        digest 0123456789abcdef0123456789abcdef
        status_code 200-299 301
      }
      virtualhost www.test
      connect_timeout 1
      retry 2
      delay_before_retry 1
    }
    TCP_CHECK {
      connect_port 81
      connect_timeout 2
    }
  }
  real_server 198.18.51.12 80 {
    MISC_CHECK {
      misc_path "/usr/bin/test -e /tmp/x"
      misc_timeout 3
      misc_dynamic
    }
  }
  real_server 198.18.51.13 80 {
  }
}
virtual_server group WEB {
  delay_loop 10
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 198.18.51.21 80 {
    DNS_CHECK {
      type A
      name web.test
    }
  }
}
virtual_server 198.18.50.20 53 {
  lb_algo lc
  lb_kind TUN
  protocol UDP
  real_server 198.18.51.31 53 {
    UDP_CHECK {
      payload 01 02
      require_reply 0102
    }
  }
}
`

test('lvs mapping: keys, algo, persistence, quorum, sorry server, inhibit, scripts and every checker field', async () => {
  const {config, diagnostics} = await parseConfigText(CONF, '/etc/keepalived/keepalived.conf')
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), [])
  const m = mapVirtualServers(config, {heloName: 'director', drInterface: (a) => (a.startsWith('198.18.51.') ? 'eth1' : undefined)})
  assert.equal(m.servers.length, 3)
  const [web, group, udp] = m.servers.map((s) => s.checked)

  const c = web!.config
  assert.deepEqual(c.key, {kind: 'address', family: 'ipv4', address: '198.18.50.10', port: 80, protocol: 'TCP'})
  assert.equal(c.algo, 'wrr')
  assert.equal(c.persistenceTimeoutS, 50)
  assert.equal(c.persistencePrefix, 24)
  assert.equal(c.quorum, 2)
  assert.equal(c.hysteresis, 1)
  assert.equal(c.quorumUp, '/bin/true up')
  assert.deepEqual(c.sorryServer, {address: '198.18.51.99', port: 8080, inhibit: false})
  assert.equal(c.interface, undefined, 'the DR interface is only looked up for DR')
  assert.deepEqual(c.realServers.map((r) => [r.address, r.port, r.weight, r.inhibitOnFailure]), [
    ['198.18.51.11', 80, 3, true], ['198.18.51.12', 80, 1, true], ['198.18.51.13', 80, 1, true],
  ])
  assert.equal(c.realServers[0]!.notifyDown, '/bin/false')
  assert.equal(m.scripts.get('/bin/false')?.source.line, 23, 'the script name leads back to its config line')
  assert.ok(m.scripts.has('/bin/true up'))

  const rs1 = web!.checks['198.18.51.11:80']
  assert.ok(Array.isArray(rs1) && rs1.length === 2, 'two checkers on one real server')
  assert.deepEqual(rs1[0], {
    checker: {type: 'HTTP_GET', connectTimeoutMs: 1000, virtualhost: 'www.test',
      urls: [{path: '/health', digest: '0123456789abcdef0123456789abcdef', statusCodes: [{from: 200, to: 299}, {from: 301, to: 301}]}]},
    schedule: {delayLoopMs: 6000, retry: 2, delayBeforeRetryMs: 1000, warmupMs: 6000, alpha: false},
  })
  assert.deepEqual(rs1[1]!.checker, {type: 'TCP_CHECK', connectTimeoutMs: 2000, connectPort: 81})
  const misc = web!.checks['198.18.51.12:80']
  assert.ok(Array.isArray(misc))
  assert.deepEqual(misc[0]!.checker, {type: 'MISC_CHECK', miscPath: '/usr/bin/test -e /tmp/x', miscTimeoutMs: 3000, dynamic: true})
  assert.deepEqual(m.scripts.get('/usr/bin/test -e /tmp/x')?.argv, ['/usr/bin/test', '-e', '/tmp/x'])
  assert.equal(web!.checks['198.18.51.13:80'], undefined, 'no checker: always up')

  assert.equal(group!.group, 'WEB')
  assert.deepEqual(group!.keys!.map((k) => (k.kind === 'fwmark' ? `fwmark ${k.mark}` : `${k.address}:${k.port}`)),
    ['198.18.50.10:80', '198.18.50.11:80', '198.18.50.12:80', 'fwmark 7'])
  assert.equal(group!.config.interface, 'eth1', 'DR: the interface the real servers are routed by')
  const dns = group!.checks['198.18.51.21:80']
  assert.ok(Array.isArray(dns))
  assert.deepEqual(dns[0]!.checker, {type: 'DNS_CHECK', connectTimeoutMs: 5000, queryType: 'A', name: 'web.test'})
  assert.equal(dns[0]!.schedule.delayLoopMs, 10_000)

  const u = udp!.checks['198.18.51.31:53']
  assert.ok(Array.isArray(u) && u[0]!.checker.type === 'UDP_CHECK')
  assert.deepEqual([...u[0]!.checker.payload], [1, 2])
  assert.equal(u[0]!.checker.requireReply, true)
  assert.deepEqual([...u[0]!.checker.expectedReply!], [1, 2])
})

test('lvs config test: nftables cannot program lc, TUN or DR with fwmark; errors name the virtual_server line', async () => {
  const {config} = await parseConfigText(CONF, '/k.conf')
  const d = lvsConfigDiagnostics(config, false)
  const lines = d.filter((x) => x.severity === 'error').map((x) => `${x.line}: ${x.message}`)
  assert.ok(lines.some((l) => /^50: .*fwmark 7: lb_kind DR with fwmark/.test(l)), lines.join('\n'))
  assert.ok(lines.some((l) => /^62: .*lb_algo lc is not supported/.test(l)), lines.join('\n'))
  assert.ok(lines.some((l) => /^62: .*lb_kind TUN is not supported/.test(l)), lines.join('\n'))
  assert.ok(!lines.some((l) => l.startsWith('9:')), 'wrr NAT is fine')
  assert.ok(!lines.some((l) => /needs the director's interface/.test(l)), 'the DR interface is found at start, not a config error')

  assert.ok(!lines.some((l) => /persistence/.test(l)), 'persistence_timeout on an IPv4 NAT service is programmed')

  config.globalDefs.lvsBackend = 'auto'
  assert.equal(lvsConfigDiagnostics(config, true).filter((x) => x.severity === 'error').length, 0, 'auto with IPVS: IPVS does all of it')
  assert.ok(lvsConfigDiagnostics(config, false).some((x) => /no IPVS in this kernel/.test(x.message)), 'auto without IPVS says why nftables')
})

test('lvs config test: IPv6 persistence with real servers on different ports is an nftables error naming the line, whatever their health', async () => {
  const conf = (port2: number) => `global_defs {
  lvs_backend nftables
}
virtual_server fd00::10 443 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  persistence_timeout 300
  alpha
  real_server fd00::1:1 8443 {
    TCP_CHECK {
    }
  }
  real_server fd00::1:2 ${port2} {
    TCP_CHECK {
    }
  }
}
`
  const errors = async (text: string) => lvsConfigDiagnostics((await parseConfigText(text, '/k.conf')).config, false).filter((x) => x.severity === 'error')
  const mixed = await errors(conf(443))
  assert.equal(mixed.length, 1, mixed.map((x) => x.message).join('\n'))
  assert.equal(mixed[0]!.line, 4)
  assert.match(mixed[0]!.message, /persistence_timeout on an IPv6 service whose real servers listen on different ports \(8443, 443\)/)
  assert.deepEqual(await errors(conf(8443)), [], 'one shared port is fine')
})

test('lvs mapping helpers: ranges and granularity', () => {
  assert.deepEqual(expandRange('198.18.0.3', 5), ['198.18.0.3', '198.18.0.4', '198.18.0.5'])
  assert.deepEqual(expandRange('2001:db8::a', 0xc), ['2001:db8::a', '2001:db8::b', '2001:db8::c'])
  assert.equal(granularityPrefix('255.255.255.0'), 24)
  assert.equal(granularityPrefix('64'), 64)
  assert.equal(granularityPrefix('255.0.255.0'), undefined)
})

test('reload through the mapping touches only what differs', async () => {
  const timers: Array<() => void> = []
  const clock: CheckClock = {setTimer: (_ms, fn) => { timers.push(fn); return () => {} }, random: () => 0}
  const applied: VirtualService[][] = []
  const backend: LbBackend = {name: 'nftables', async reconcile(d) { applied.push(structuredClone([...d])); return {applied: '', changes: 0, warnings: []} }, async clear() {}}
  const parse = async (text: string) => mapVirtualServers((await parseConfigText(text, '/k.conf')).config, {heloName: 'h'}).servers.map((s) => s.checked)
  const vs = (port: number, rs: string) => `virtual_server 198.18.50.10 ${port} {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n${rs}}\n`
  const rs = (n: number, w = 1) => ` real_server 198.18.51.${n} 80 {\n  weight ${w}\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n`
  const checked: string[] = []
  const sup = new CheckSupervisor(await parse(vs(80, rs(1) + rs(2)) + vs(81, rs(1))), backend, {runNotification: () => {}, log: () => {}}, clock,
    async (t) => { checked.push(t.address); return {ok: false, latencyMs: 0, detail: 'refused'} })
  await sup.start()
  assert.equal(timers.length, 3)
  const r = await sup.reload(await parse(vs(80, rs(1) + rs(2, 5)) + vs(82, rs(1))))
  assert.deepEqual([r.kept, r.changed, r.added, r.removed], [[], ['TCP 198.18.50.10:80'], ['TCP 198.18.50.10:82'], ['TCP 198.18.50.10:81']])
  assert.equal(timers.length, 4, 'a new checker only for the new virtual server: a weight change keeps rs2\'s checker')
  assert.deepEqual(applied.at(-1)!.map((s) => [s.key.kind === 'address' ? s.key.port : 0, s.destinations.map((d) => d.weight)]), [[80, [1, 5]], [82, [1]]])
  const again = await sup.reload(await parse(vs(80, rs(1) + rs(2, 5)) + vs(82, rs(1))))
  assert.deepEqual(again.kept, ['TCP 198.18.50.10:80', 'TCP 198.18.50.10:82'])
  assert.equal(timers.length, 4, 'an identical reload starts nothing')
  await sup.stop()
})
