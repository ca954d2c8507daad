import {readFileSync} from 'node:fs'
import {request} from 'node:http'
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {METRICS, renderMetrics, startMetricsServer} from '../../src/daemon/control/metrics.js'
import type {KaopsdStatus} from '../../src/model/kaopsd-status.js'
import {sampleStatus} from './metrics-fixture.js'

function get(port: number, path: string): Promise<{status: number; type: string; body: string}> {
  return new Promise((resolve, reject) => {
    request({host: '127.0.0.1', port, path}, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({status: res.statusCode!, type: String(res.headers['content-type']), body}))
    }).on('error', reject).end()
  })
}

/** The sample value of one series, or undefined when the series is absent. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

test('a scrape over HTTP on loopback reports the snapshot of that moment', async (t) => {
  let status: KaopsdStatus = sampleStatus()
  let scrapes = 0
  const server = await startMetricsServer({host: '127.0.0.1', port: 0, getStatus: () => (scrapes++, status)})
  t.after(() => server.close())
  const res = await get(server.address.port, '/metrics')
  assert.equal(res.status, 200)
  assert.match(res.type, /^text\/plain; version=0\.0\.4/)
  const b = res.body
  assert.equal(sample(b, 'kaopsd_info{version="0.1.0",release="20260101-120000",config_hash="ab12"}'), 1)
  assert.equal(sample(b, 'kaopsd_uptime_seconds'), 3600.5)
  assert.equal(sample(b, 'kaopsd_vrrp_instance_state{vrrp_instance="VI_1",vrid="51",interface="eth0",state="MASTER"}'), 1)
  assert.equal(sample(b, 'kaopsd_vrrp_instance_state{vrrp_instance="VI_1",vrid="51",interface="eth0",state="BACKUP"}'), 0)
  assert.equal(sample(b, 'kaopsd_vrrp_instance_state{vrrp_instance="VI_2",vrid="52",interface="eth1",state="BACKUP"}'), 1)
  assert.equal(sample(b, 'kaopsd_vrrp_instance_priority{vrrp_instance="VI_1"}'), 150)
  assert.equal(sample(b, 'kaopsd_vrrp_instance_effective_priority{vrrp_instance="VI_1"}'), 140)
  assert.equal(sample(b, 'kaopsd_vrrp_instance_vips{vrrp_instance="VI_1"}'), 2)
  assert.equal(sample(b, 'kaopsd_vrrp_last_transition_timestamp_seconds{vrrp_instance="VI_1"}'), Date.parse('2026-01-02T03:04:05Z') / 1000)
  assert.equal(sample(b, 'kaopsd_vrrp_last_transition_timestamp_seconds{vrrp_instance="VI_2"}'), undefined)
  assert.equal(sample(b, 'kaopsd_vrrp_transitions_total{vrrp_instance="VI_1"}'), 3)
  assert.equal(sample(b, 'kaopsd_vrrp_adverts_sent_total{vrrp_instance="VI_1"}'), 1200)
  assert.equal(sample(b, 'kaopsd_vrrp_adverts_received_total{vrrp_instance="VI_2"}'), 900)
  assert.equal(sample(b, 'kaopsd_vrrp_ip_ttl_errors_total{vrrp_instance="VI_1"}'), 3)
  assert.equal(sample(b, 'kaopsd_vrrp_auth_failures_total{vrrp_instance="VI_1"}'), 5)
  assert.equal(sample(b, 'kaopsd_vrrp_packet_length_errors_total{vrrp_instance="VI_2"}'), 2)
  assert.equal(sample(b, 'kaopsd_vrrp_priority_zero_received_total{vrrp_instance="VI_1"}'), 1)
  assert.equal(sample(b, 'kaopsd_vrrp_invalid_type_received_total{vrrp_instance="VI_1"}'), 0)
  assert.equal(sample(b, 'kaopsd_lvs_virtual_server_quorum_up{virtual_server="198.18.0.100:80",protocol="TCP",backend="nftables"}'), 1)
  assert.equal(sample(b, 'kaopsd_lvs_real_server_up{virtual_server="198.18.0.100:80",real_server="198.18.1.11:80"}'), 1)
  assert.equal(sample(b, 'kaopsd_lvs_real_server_up{virtual_server="198.18.0.100:80",real_server="198.18.1.12:80"}'), 0)
  assert.equal(sample(b, 'kaopsd_lvs_real_server_weight{virtual_server="198.18.0.100:80",real_server="198.18.1.11:80"}'), 3)
  assert.equal(sample(b, 'kaopsd_lvs_checker_latency_seconds{virtual_server="198.18.0.100:80",real_server="198.18.1.11:80"}'), 0.0125)
  assert.equal(sample(b, 'kaopsd_lvs_checker_latency_seconds{virtual_server="198.18.0.100:80",real_server="198.18.1.13:80"}'), undefined)
  assert.match(b, /^# TYPE kaopsd_vrrp_adverts_sent_total counter$/m)

  // Built afresh per scrape: new values show, a removed instance is gone.
  status = {...sampleStatus(), instances: [{...sampleStatus().instances[0]!, state: 'FAULT'}]}
  const again = (await get(server.address.port, '/metrics')).body
  assert.equal(sample(again, 'kaopsd_vrrp_instance_state{vrrp_instance="VI_1",vrid="51",interface="eth0",state="FAULT"}'), 1)
  assert.doesNotMatch(again, /VI_2/)
  assert.equal(scrapes, 2)

  assert.equal((await get(server.address.port, '/')).status, 404)
})

test('a failing snapshot is a 500, logged; a taken port is a clear error', async (t) => {
  const errors: string[] = []
  const server = await startMetricsServer({host: '127.0.0.1', port: 0, getStatus: () => Promise.reject(new Error('engine busy')), log: {error: (m) => errors.push(m)}})
  t.after(() => server.close())
  const res = await get(server.address.port, '/metrics')
  assert.equal(res.status, 500)
  assert.deepEqual(errors, ['metrics: scrape failed: engine busy'])
  await assert.rejects(
    startMetricsServer({host: '127.0.0.1', port: server.address.port, getStatus: sampleStatus}),
    new RegExp(`^Error: metrics_listen 127\\.0\\.0\\.1:${server.address.port}: address already in use$`),
  )
})

test('every exported metric is documented in the README, and only those are exported', async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('## Metrics'))
  assert.ok(readme.includes('## Metrics'), 'README has a Metrics section')
  for (const m of METRICS) assert.ok(section.includes(`\`${m.name}\``), `${m.name} is missing from README.md's Metrics table`)
  const exported = new Set((await renderMetrics(sampleStatus())).body.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]))
  assert.deepEqual([...exported].sort(), METRICS.map((m) => m.name).sort())
})
