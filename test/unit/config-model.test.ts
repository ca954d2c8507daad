import assert from 'node:assert/strict'
import {test} from 'node:test'
import {parseConfigText} from '../../src/daemon/config/index.js'

// Every keyword of mission.md lands in the typed model, with keepalived's defaults.

const FULL = `
global_defs {
  notification_email {
    ops@example.com
    oncall@example.com
  }
  notification_email_from lb@example.com
  smtp_server 127.0.0.1 2525
  smtp_connect_timeout 12.5
  router_id LB1
  vrrp_skip_check_adv_addr
  vrrp_strict
  vrrp_iptables KA_IN KA_OUT
  vrrp_garp_interval 0.001
  vrrp_gna_interval 0.002
  vrrp_version 3
  script_user nobody nogroup
  enable_script_security
  vrrp_notify_fifo /run/vrrp.fifo
  vrrp_notify_fifo_script /usr/local/bin/fifo.sh
  notify_fifo /run/all.fifo
  lvs_backend nftables
  metrics_listen 127.0.0.1:9650
}
static_ipaddress {
  198.18.9.1/24 dev eth1 scope link
}
static_routes {
  198.19.0.0/16 via 198.18.9.254 dev eth1
}
vrrp_script chk {
  script "/usr/local/bin/chk.sh arg"
  interval 2
  timeout 3
  weight -20
  fall 3
  rise 2
  user nobody
}
vrrp_track_file tf {
  file /run/prio
  weight -3
}
vrrp_sync_group G1 {
  group {
    VI_1
  }
  notify_master "/bin/gm MASTER"
  notify_backup /bin/gb
  notify_fault /bin/gf
  notify /bin/gn
  smtp_alert
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  use_vmac vrrp51
  vmac_xmit_base
  dont_track_primary
  track_interface {
    eth1 weight -10
    eth2
  }
  track_script {
    chk weight 5
  }
  track_file {
    tf
  }
  mcast_src_ip 198.18.0.1
  unicast_src_ip 198.18.0.1
  unicast_peer {
    198.18.0.2
    198.18.0.3
  }
  lvs_sync_daemon_interface eth1
  garp_master_delay 2
  garp_master_repeat 3
  garp_master_refresh 60
  virtual_router_id 51
  priority 150
  advert_int 0.05
  version 3
  virtual_ipaddress {
    198.18.0.100/24 brd 198.18.0.255 dev eth0 label eth0:vip scope global
    198.18.0.101
  }
  virtual_ipaddress_excluded {
    198.18.0.200
  }
  virtual_routes {
    198.18.50.0/24 via 198.18.0.254 dev eth0
  }
  nopreempt
  preempt_delay 30
  debug 2
  notify_master "/bin/m 'a b'"
  notify_backup /bin/b
  notify_fault /bin/f
  notify_stop /bin/s
  notify /bin/n
  smtp_alert
  notify_fifo /run/vi1.fifo
}
virtual_server_group VSG {
  198.18.1.10-20 80
  fwmark 7
}
virtual_server 198.18.1.1 80 {
  delay_loop 6
  lb_algo wrr
  lb_kind DR
  persistence_timeout 50
  persistence_granularity 255.255.255.0
  protocol TCP
  ha_suspend
  virtualhost www.example.com
  alpha
  omega
  quorum 2
  hysteresis 1
  quorum_up /bin/qu
  quorum_down "/bin/qd down"
  sorry_server 198.18.1.99 8080
  sorry_server_inhibit
  real_server 198.18.1.11 8080 {
    weight 3
    inhibit_on_failure
    notify_up /bin/up
    notify_down /bin/down
    HTTP_GET {
      url {
        path /health
        digest 9B3A0C85A887A256D6939DA88AABD8CD
        status_code 200-299 301
      }
      connect_ip 198.18.1.12
      connect_port 8081
      bindto 198.18.1.1
      connect_timeout 2.5
      nb_get_retry 4
      delay_before_retry 1.5
      warmup 0
    }
    SSL_GET {
      url {
        path /
      }
    }
    TCP_CHECK {
      connect_port 22
    }
    SMTP_CHECK {
      helo_name mx.example.com
      host {
        connect_ip 198.18.1.13
        connect_port 25
      }
    }
    MISC_CHECK {
      misc_path "/bin/check arg"
      misc_timeout 5
      misc_dynamic
    }
    DNS_CHECK {
      type A
      name example.com
    }
    UDP_CHECK {
      payload 01 02
      require_reply
    }
    PING_CHECK {
      retry 2
    }
  }
}
virtual_server fwmark 7 {
  lb_algo sh
  lb_kind NAT
  real_server 198.18.1.21 {
  }
}
virtual_server group VSG {
  lb_algo rr
  lb_kind TUN
  protocol UDP
  real_server 198.18.1.31 53 {
  }
}
`

test('a configuration using every keyword parses without a message', async () => {
  const {diagnostics} = await parseConfigText(FULL, '/etc/keepalived/keepalived.conf')
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), [])
  // The only warning is keepalived's own deprecation of the instance-level sync daemon interface.
  assert.deepEqual(diagnostics.map((d) => d.line), [FULL.split('\n').findIndex((l) => l.includes('lvs_sync_daemon_interface')) + 1])
})

test('global_defs lands in the model, durations in ms', async () => {
  const g = (await parseConfigText(FULL, '/k.conf')).config.globalDefs
  assert.deepEqual(g.notificationEmail, ['ops@example.com', 'oncall@example.com'])
  assert.equal(g.notificationEmailFrom, 'lb@example.com')
  assert.deepEqual(g.smtpServer, {host: '127.0.0.1', port: 2525})
  assert.equal(g.smtpConnectTimeoutMs, 12_500)
  assert.equal(g.routerId, 'LB1')
  assert.equal(g.vrrpSkipCheckAdvAddr, true)
  assert.equal(g.vrrpStrict, true)
  assert.deepEqual(g.vrrpIptables, {inputChain: 'KA_IN', outputChain: 'KA_OUT'})
  assert.equal(g.vrrpGarpIntervalMs, 1)
  assert.equal(g.vrrpGnaIntervalMs, 2)
  assert.equal(g.vrrpVersion, 3)
  assert.deepEqual(g.scriptUser, {user: 'nobody', group: 'nogroup'})
  assert.equal(g.enableScriptSecurity, true)
  assert.equal(g.vrrpNotifyFifo?.path, '/run/vrrp.fifo')
  assert.equal(g.vrrpNotifyFifo?.script?.command, '/usr/local/bin/fifo.sh')
  assert.equal(g.notifyFifo?.path, '/run/all.fifo')
  assert.equal(g.lvsBackend, 'nftables')
  assert.deepEqual(g.metricsListen, {host: '127.0.0.1', port: 9650})
})

test('static addresses, routes, vrrp_script, track file and sync group land in the model', async () => {
  const c = (await parseConfigText(FULL, '/k.conf')).config
  assert.deepEqual({...c.staticIpAddresses[0], source: undefined}, {address: '198.18.9.1', family: 4, prefixLength: 24, dev: 'eth1', scope: 'link', flags: [], source: undefined})
  assert.equal(c.staticRoutes[0]!.destination, '198.19.0.0/16')
  assert.equal(c.staticRoutes[0]!.via, '198.18.9.254')
  const s = c.vrrpScripts[0]!
  assert.deepEqual([s.name, s.script?.argv, s.intervalMs, s.timeoutMs, s.weight, s.fall, s.rise, s.user], ['chk', ['/usr/local/bin/chk.sh', 'arg'], 2000, 3000, -20, 3, 2, {user: 'nobody'}])
  assert.deepEqual([c.vrrpTrackFiles[0]!.file, c.vrrpTrackFiles[0]!.weight], ['/run/prio', -3])
  const g = c.vrrpSyncGroups[0]!
  assert.deepEqual(g.instances, ['VI_1'])
  assert.deepEqual([g.notifyMaster?.argv, g.notifyBackup?.command, g.notifyFault?.command, g.notify?.command, g.smtpAlert], [['/bin/gm', 'MASTER'], '/bin/gb', '/bin/gf', '/bin/gn', true])
})

test('vrrp_instance: every keyword lands in the model', async () => {
  const v = (await parseConfigText(FULL, '/k.conf')).config.vrrpInstances[0]!
  assert.equal(v.state, 'MASTER')
  assert.equal(v.interface, 'eth0')
  assert.deepEqual(v.useVmac, {name: 'vrrp51'})
  assert.equal(v.dontTrackPrimary, true)
  assert.deepEqual(v.trackInterfaces.map((t) => [t.name, t.weight]), [['eth1', -10], ['eth2', 0]])
  assert.deepEqual(v.trackScripts.map((t) => [t.name, t.weight]), [['chk', 5]])
  assert.deepEqual(v.trackFiles.map((t) => t.name), ['tf'])
  assert.equal(v.mcastSrcIp, '198.18.0.1')
  assert.equal(v.unicastSrcIp, '198.18.0.1')
  assert.deepEqual(v.unicastPeers.map((p) => p.address), ['198.18.0.2', '198.18.0.3'])
  assert.equal(v.lvsSyncDaemonInterface, 'eth1')
  assert.deepEqual([v.garpMasterDelayMs, v.garpMasterRepeat, v.garpMasterRefreshMs], [2000, 3, 60_000])
  assert.deepEqual([v.virtualRouterId, v.priority, v.advertIntervalMs, v.version], [51, 150, 50, 3])
  const vip = v.virtualIpAddresses[0]!
  assert.deepEqual([vip.address, vip.prefixLength, vip.broadcast, vip.dev, vip.label, vip.scope], ['198.18.0.100', 24, '198.18.0.255', 'eth0', 'eth0:vip', 'global'])
  assert.equal(v.virtualIpAddresses[1]!.prefixLength, 32)
  assert.equal(v.virtualIpAddressesExcluded[0]!.address, '198.18.0.200')
  assert.equal(v.virtualRoutes[0]!.destination, '198.18.50.0/24')
  assert.deepEqual([v.nopreempt, v.preemptDelayMs, v.debug, v.smtpAlert], [true, 30_000, 2, true])
  assert.deepEqual(v.notifyMaster?.argv, ['/bin/m', 'a b'])
  assert.deepEqual([v.notifyBackup?.command, v.notifyFault?.command, v.notifyStop?.command, v.notify?.command], ['/bin/b', '/bin/f', '/bin/s', '/bin/n'])
  assert.equal(v.notifyFifo?.path, '/run/vi1.fifo')
})

test('vrrp_instance defaults are keepalived\'s', async () => {
  const {config} = await parseConfigText('vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 192.0.2.1\n }\n authentication {\n auth_type PASS\n auth_pass secret\n }\n}\n', '/k.conf')
  const v = config.vrrpInstances[0]!
  assert.deepEqual(
    [v.state, v.priority, v.advertIntervalMs, v.version, v.nopreempt, v.preemptDelayMs, v.garpMasterDelayMs, v.garpMasterRepeat, v.garpMasterRefreshMs, v.family],
    ['BACKUP', 100, 1000, 2, false, 0, 5000, 5, 0, 4],
  )
  assert.deepEqual(v.authentication, {type: 'PASS', password: 'secret'})
  const v6 = await parseConfigText('vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 2001:db8::1/64\n }\n}\n', '/k.conf')
  assert.deepEqual([v6.config.vrrpInstances[0]!.family, v6.config.vrrpInstances[0]!.version], [6, 3])
})

test('virtual_server, sorry_server, real_server and each checker land in the model', async () => {
  const c = (await parseConfigText(FULL, '/k.conf')).config
  assert.deepEqual(c.virtualServerGroups[0]!.entries.map((e) => (e.kind === 'fwmark' ? e.fwmark : [e.address, e.rangeEnd, e.port])), [['198.18.1.10', 20, 80], 7])
  const vs = c.virtualServers[0]!
  assert.deepEqual(vs.target, {kind: 'address', address: '198.18.1.1', family: 4, port: 80})
  assert.deepEqual(
    [vs.delayLoopMs, vs.lbAlgo, vs.lbKind, vs.persistenceTimeoutSec, vs.persistenceGranularity, vs.protocol, vs.haSuspend, vs.virtualhost, vs.alpha, vs.omega, vs.quorum, vs.hysteresis],
    [6000, 'wrr', 'DR', 50, '255.255.255.0', 'TCP', true, 'www.example.com', true, true, 2, 1],
  )
  assert.equal(vs.quorumUp?.command, '/bin/qu')
  assert.deepEqual(vs.quorumDown?.argv, ['/bin/qd', 'down'])
  assert.deepEqual(vs.sorryServer, {address: '198.18.1.99', family: 4, port: 8080, inhibit: true})
  const rs = vs.realServers[0]!
  assert.deepEqual([rs.address, rs.port, rs.weight, rs.inhibitOnFailure, rs.notifyUp?.command, rs.notifyDown?.command], ['198.18.1.11', 8080, 3, true, '/bin/up', '/bin/down'])
  assert.deepEqual(rs.checkers.map((k) => k.type), ['HTTP_GET', 'SSL_GET', 'TCP_CHECK', 'SMTP_CHECK', 'MISC_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK'])
  const [http, ssl, tcp, smtp, misc, dns, udp, ping] = rs.checkers
  assert.ok(http?.type === 'HTTP_GET')
  assert.deepEqual(http.urls.map((u) => [u.path, u.digest, u.statusCodes]), [['/health', '9b3a0c85a887a256d6939da88aabd8cd', [[200, 299], [301, 301]]]])
  assert.deepEqual([http.connectIp, http.connectPort, http.bindTo, http.connectTimeoutMs, http.retry, http.delayBeforeRetryMs, http.warmupMs], ['198.18.1.12', 8081, '198.18.1.1', 2500, 4, 1500, 0])
  assert.ok(ssl?.type === 'SSL_GET')
  assert.deepEqual([ssl.urls[0]!.statusCodes, ssl.retry, ssl.delayBeforeRetryMs, ssl.connectTimeoutMs], [[[200, 299]], 1, 3000, 5000])
  assert.ok(tcp?.type === 'TCP_CHECK')
  assert.deepEqual([tcp.connectPort, tcp.retry, tcp.delayBeforeRetryMs], [22, 1, 1000])
  assert.ok(smtp?.type === 'SMTP_CHECK')
  assert.deepEqual([smtp.heloName, smtp.hosts[0]!.connectIp, smtp.hosts[0]!.connectPort], ['mx.example.com', '198.18.1.13', 25])
  assert.ok(misc?.type === 'MISC_CHECK')
  assert.deepEqual([misc.miscPath?.argv, misc.miscTimeoutMs, misc.miscDynamic, misc.retry], [['/bin/check', 'arg'], 5000, true, 0])
  assert.ok(dns?.type === 'DNS_CHECK')
  assert.deepEqual([dns.queryType, dns.name, dns.retry, dns.delayBeforeRetryMs], ['A', 'example.com', 3, 6000])
  assert.ok(udp?.type === 'UDP_CHECK')
  assert.deepEqual([udp.payload, udp.requireReply], ['01 02', ''])
  assert.ok(ping?.type === 'PING_CHECK')
  assert.equal(ping.retry, 2)
  assert.deepEqual(c.virtualServers[1]!.target, {kind: 'fwmark', fwmark: 7})
  assert.equal(c.virtualServers[1]!.realServers[0]!.port, undefined)
  assert.deepEqual(c.virtualServers[2]!.target, {kind: 'group', group: 'VSG'})
  assert.equal(c.virtualServers[2]!.lbKind, 'TUN')
})
