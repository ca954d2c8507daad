import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {Counter, Gauge, Registry} from 'prom-client'
import type {KaopsdStatus, VrrpInstanceStats, VrrpStateName} from '../../model/kaopsd-status.js'

/**
 * Prometheus metrics (global_defs `metrics_listen ADDRESS:PORT`, a kaopsd extension).
 *
 * The registry is built afresh from the status snapshot on every scrape, so the metrics can
 * never disagree with `kaopsd status`, and an instance removed by a reload disappears instead
 * of lingering with its last value. Counters are keepalived's own counters, exported as they
 * stand. The instance label is `vrrp_instance` because Prometheus reserves `instance` for the
 * scraped target. Every name is in METRICS, and README.md's "Metrics" section documents them.
 */

export interface MetricDoc {
  name: string
  type: 'gauge' | 'counter'
  labels: string[]
  help: string
}

const IL = ['vrrp_instance']
const RL = ['virtual_server', 'real_server']

/** keepalived counter -> metric name and help, for the receive/auth/priority-0 counters. */
const counterMetrics: Array<{stat: keyof VrrpInstanceStats; name: string; help: string}> = [
  {stat: 'advert_sent', name: 'kaopsd_vrrp_adverts_sent_total', help: 'Adverts sent (keepalived advert_sent).'},
  {stat: 'advert_rcvd', name: 'kaopsd_vrrp_adverts_received_total', help: 'Adverts received (keepalived advert_rcvd).'},
  {stat: 'become_master', name: 'kaopsd_vrrp_become_master_total', help: 'Transitions into MASTER.'},
  {stat: 'release_master', name: 'kaopsd_vrrp_release_master_total', help: 'Transitions out of MASTER.'},
  {stat: 'pri_zero_sent', name: 'kaopsd_vrrp_priority_zero_sent_total', help: 'Priority-0 adverts sent (this master stepping down).'},
  {stat: 'pri_zero_rcvd', name: 'kaopsd_vrrp_priority_zero_received_total', help: 'Priority-0 adverts received (the master stepping down).'},
  {stat: 'packet_len_err', name: 'kaopsd_vrrp_packet_length_errors_total', help: 'Received packets with a bad length (packet_len_err).'},
  {stat: 'ip_ttl_err', name: 'kaopsd_vrrp_ip_ttl_errors_total', help: 'Received packets whose TTL/hop limit was not 255 (ip_ttl_err).'},
  {stat: 'invalid_type_rcvd', name: 'kaopsd_vrrp_invalid_type_received_total', help: 'Received packets of an unknown VRRP type (invalid_type_rcvd).'},
  {stat: 'addr_list_err', name: 'kaopsd_vrrp_address_list_errors_total', help: 'Adverts whose address list differs from ours (addr_list_err).'},
  {stat: 'invalid_authtype', name: 'kaopsd_vrrp_invalid_auth_type_total', help: 'Adverts with an unknown authentication type (invalid_authtype).'},
  {stat: 'authtype_mismatch', name: 'kaopsd_vrrp_auth_type_mismatch_total', help: 'Adverts with another authentication type than ours (authtype_mismatch).'},
  {stat: 'auth_failure', name: 'kaopsd_vrrp_auth_failures_total', help: 'Adverts failing authentication (auth_failure).'},
]

export const STATES: VrrpStateName[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP']

/** Every metric kaopsd exports, in the order of the README table. */
export const METRICS: MetricDoc[] = [
  {name: 'kaopsd_info', type: 'gauge', labels: ['version', 'release', 'config_hash'], help: 'Always 1; the labels say what runs.'},
  {name: 'kaopsd_uptime_seconds', type: 'gauge', labels: [], help: 'Seconds since kaopsd started.'},
  {name: 'kaopsd_vrrp_instance_state', type: 'gauge', labels: [...IL, 'vrid', 'interface', 'state'], help: `1 for the state the instance is in, 0 for the others (${STATES.join(', ')}).`},
  {name: 'kaopsd_vrrp_instance_priority', type: 'gauge', labels: IL, help: 'Configured priority.'},
  {name: 'kaopsd_vrrp_instance_effective_priority', type: 'gauge', labels: IL, help: 'Priority after track scripts, interfaces and files.'},
  {name: 'kaopsd_vrrp_instance_vips', type: 'gauge', labels: IL, help: 'Number of virtual addresses configured.'},
  {name: 'kaopsd_vrrp_last_transition_timestamp_seconds', type: 'gauge', labels: IL, help: 'Unix time of the last state change (absent before the first).'},
  {name: 'kaopsd_vrrp_transitions_total', type: 'counter', labels: IL, help: 'State changes into or out of MASTER (become_master + release_master).'},
  {name: 'kaopsd_vrrp_takeover_seconds_left', type: 'gauge', labels: IL, help: 'Seconds left of an operator takeover (kaopsd takeover), 0 when none.'},
  ...counterMetrics.map((c) => ({name: c.name, type: 'counter' as const, labels: IL, help: c.help})),
  {name: 'kaopsd_lvs_virtual_server_quorum_up', type: 'gauge', labels: ['virtual_server', 'protocol', 'backend'], help: '1 when the virtual server has its quorum of live real servers.'},
  {name: 'kaopsd_lvs_real_server_up', type: 'gauge', labels: RL, help: '1 when the real server passes its checks.'},
  {name: 'kaopsd_lvs_real_server_weight', type: 'gauge', labels: RL, help: 'Weight programmed into the data plane (0 when inhibited).'},
  {name: 'kaopsd_lvs_checker_latency_seconds', type: 'gauge', labels: RL, help: 'Duration of the last health check.'},
  {name: 'kaopsd_lvs_checker_last_check_timestamp_seconds', type: 'gauge', labels: RL, help: 'Unix time of the last health check.'},
]

const docByName = new Map(METRICS.map((m) => [m.name, m]))

/** A registry holding the snapshot's values. Pure apart from prom-client's own objects. */
export function buildRegistry(status: KaopsdStatus): Registry {
  const registry = new Registry()
  const gauge = (name: string): Gauge<string> => {
    const d = docByName.get(name)!
    return new Gauge({name, help: d.help, labelNames: d.labels, registers: [registry]})
  }
  const counter = (name: string): Counter<string> => {
    const d = docByName.get(name)!
    return new Counter({name, help: d.help, labelNames: d.labels, registers: [registry]})
  }

  gauge('kaopsd_info').set({version: status.version, release: status.release ?? '', config_hash: status.configHash}, 1)
  gauge('kaopsd_uptime_seconds').set(status.uptimeSeconds)

  const state = gauge('kaopsd_vrrp_instance_state')
  const prio = gauge('kaopsd_vrrp_instance_priority')
  const eff = gauge('kaopsd_vrrp_instance_effective_priority')
  const vips = gauge('kaopsd_vrrp_instance_vips')
  const last = gauge('kaopsd_vrrp_last_transition_timestamp_seconds')
  const transitions = counter('kaopsd_vrrp_transitions_total')
  const takeover = gauge('kaopsd_vrrp_takeover_seconds_left')
  const counters = counterMetrics.map((c) => ({stat: c.stat, metric: counter(c.name)}))
  for (const i of status.instances) {
    const l = {vrrp_instance: i.name}
    for (const s of STATES) state.set({...l, vrid: String(i.vrid), interface: i.interface, state: s}, i.state === s ? 1 : 0)
    prio.set(l, i.priority)
    eff.set(l, i.effectivePriority)
    vips.set(l, i.vips.length)
    if (i.lastTransition) last.set(l, Date.parse(i.lastTransition.at) / 1000)
    transitions.inc(l, i.stats.become_master + i.stats.release_master)
    takeover.set(l, i.takeover?.secondsLeft ?? 0)
    for (const c of counters) c.metric.inc(l, i.stats[c.stat])
  }

  const quorum = gauge('kaopsd_lvs_virtual_server_quorum_up')
  const up = gauge('kaopsd_lvs_real_server_up')
  const weight = gauge('kaopsd_lvs_real_server_weight')
  const latency = gauge('kaopsd_lvs_checker_latency_seconds')
  const checked = gauge('kaopsd_lvs_checker_last_check_timestamp_seconds')
  for (const vs of status.virtualServers) {
    quorum.set({virtual_server: vs.key, protocol: vs.protocol, backend: vs.backend}, vs.quorumUp ? 1 : 0)
    for (const rs of vs.realServers) {
      const l = {virtual_server: vs.key, real_server: rs.address.includes(':') ? `[${rs.address}]:${rs.port}` : `${rs.address}:${rs.port}`}
      up.set(l, rs.up ? 1 : 0)
      weight.set(l, rs.weight)
      if (rs.lastCheck) {
        latency.set(l, rs.lastCheck.latencyMs / 1000)
        checked.set(l, Date.parse(rs.lastCheck.at) / 1000)
      }
    }
  }
  return registry
}

export async function renderMetrics(status: KaopsdStatus): Promise<{contentType: string; body: string}> {
  const registry = buildRegistry(status)
  return {contentType: registry.contentType, body: await registry.metrics()}
}

export interface MetricsServerOptions {
  host: string
  port: number
  /** The current snapshot, asked on every scrape. */
  getStatus: () => KaopsdStatus | Promise<KaopsdStatus>
  log?: {error(m: string): void}
}

export interface MetricsServer {
  address: {host: string; port: number}
  close(): Promise<void>
}

/** Serves GET /metrics on metrics_listen; anything else is 404. Resolves once listening. */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, {'content-type': 'text/plain'}).end('kaopsd serves /metrics only\n')
      return
    }
    Promise.resolve()
      .then(() => opts.getStatus())
      .then((status) => renderMetrics(status))
      .then(({contentType, body}) => {
        res.writeHead(200, {'content-type': contentType, 'content-length': Buffer.byteLength(body)})
        res.end(req.method === 'HEAD' ? undefined : body)
      })
      .catch((err: Error) => {
        opts.log?.error(`metrics: scrape failed: ${err.message}`)
        res.writeHead(500, {'content-type': 'text/plain'}).end(`scrape failed: ${err.message}\n`)
      })
  })
  // A scraper that hangs must not hold a socket forever.
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new Error(`metrics_listen ${opts.host}:${opts.port}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`, {cause: err}))
    }
    server.once('error', onError)
    server.listen(opts.port, opts.host.replace(/^\[(.*)\]$/, '$1'), () => {
      server.off('error', onError)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  return {
    address: {host: addr.address, port: addr.port},
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
