import type {KaopsdStatus, VrrpInstanceStats} from '../../src/model/kaopsd-status.js'

/** A status snapshot as the daemon would report it: two instances, one virtual server. */
export function sampleStatus(): KaopsdStatus {
  const stats = (over: Partial<VrrpInstanceStats> = {}): VrrpInstanceStats => ({
    advert_rcvd: 0, advert_sent: 0, become_master: 0, release_master: 0, packet_len_err: 0, ip_ttl_err: 0,
    invalid_type_rcvd: 0, addr_list_err: 0, invalid_authtype: 0, authtype_mismatch: 0, auth_failure: 0,
    pri_zero_rcvd: 0, pri_zero_sent: 0, ...over,
  })
  return {
    format_version: 1,
    version: '0.1.0',
    pid: 4242,
    uptimeSeconds: 3600.5,
    configPath: '/etc/keepalived/keepalived.conf',
    configHash: 'ab12',
    release: '20260101-120000',
    instances: [
      {
        name: 'VI_1', state: 'MASTER', vrid: 51, interface: 'eth0', version: 2, family: 4, priority: 150, effectivePriority: 140,
        vips: ['198.18.0.100/24', '198.18.0.101/24'], masterAddress: '198.18.0.1',
        lastTransition: {at: '2026-01-02T03:04:05.000Z', from: 'BACKUP', to: 'MASTER', reason: 'master down timer expired'},
        syncGroup: 'G1',
        stats: stats({advert_sent: 1200, advert_rcvd: 7, become_master: 2, release_master: 1, ip_ttl_err: 3, auth_failure: 5, pri_zero_rcvd: 1}),
      },
      {
        name: 'VI_2', state: 'BACKUP', vrid: 52, interface: 'eth1', version: 3, family: 6, priority: 100, effectivePriority: 100,
        vips: ['fd00::100/64'], masterAddress: 'fe80::2', lastTransition: null, syncGroup: null,
        stats: stats({advert_rcvd: 900, packet_len_err: 2}),
      },
    ],
    virtualServers: [
      {
        key: '198.18.0.100:80', address: '198.18.0.100', port: 80, protocol: 'TCP', backend: 'nftables', quorumUp: true,
        realServers: [
          {address: '198.18.1.11', port: 80, weight: 3, up: true, lastCheck: {at: '2026-01-02T03:05:00.000Z', ok: true, detail: 'HTTP 200', latencyMs: 12.5}},
          {address: '198.18.1.12', port: 80, weight: 0, up: false, lastCheck: {at: '2026-01-02T03:05:01.000Z', ok: false, detail: 'connection refused', latencyMs: 1}},
          {address: '198.18.1.13', port: 80, weight: 1, up: true, lastCheck: null},
        ],
      },
    ],
  }
}
