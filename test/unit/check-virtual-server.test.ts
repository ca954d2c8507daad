import {test} from 'node:test'
import assert from 'node:assert/strict'
import {applyHealth, desiredService, initialState, nextQuorum, shutdownNotifications, type VirtualServerConfig} from '../../src/daemon/check/virtual-server-state.js'

const base: VirtualServerConfig = {
  key: {kind: 'address', family: 'ipv4', address: '198.18.0.10', port: 80, protocol: 'TCP'},
  algo: 'wrr', kind: 'NAT', alpha: false, omega: false, quorum: 1, hysteresis: 0,
  realServers: [
    {address: '198.18.1.1', port: 80, weight: 3, inhibitOnFailure: false, notifyUp: '/bin/up rs1', notifyDown: '/bin/down rs1'},
    {address: '198.18.1.2', port: 80, weight: 1, inhibitOnFailure: true},
  ],
}
const rs1 = '198.18.1.1:80'
const rs2 = '198.18.1.2:80'

test('real servers start up (or down with alpha); failures remove or inhibit; notify scripts run on change', () => {
  let s = initialState(base)
  assert.deepEqual(desiredService(base, s).destinations, [
    {address: '198.18.1.1', port: 80, weight: 3}, {address: '198.18.1.2', port: 80, weight: 1},
  ])
  const down1 = applyHealth(base, s, rs1, {up: false})
  assert.deepEqual(down1.notifications, [{event: 'notify_down', script: '/bin/down rs1', realServer: rs1}])
  s = down1.state
  const down2 = applyHealth(base, s, rs2, {up: false})
  s = down2.state
  // rs1 is removed; rs2 has inhibit_on_failure, so it stays with weight 0.
  assert.deepEqual(desiredService(base, s).destinations, [{address: '198.18.1.2', port: 80, weight: 0}])
  const again = applyHealth(base, s, rs1, {up: false})
  assert.deepEqual(again.notifications, [], 'no change, no script')
  const back = applyHealth(base, s, rs1, {up: true, weight: 9})
  assert.deepEqual(back.notifications, [{event: 'notify_up', script: '/bin/up rs1', realServer: rs1}])
  assert.deepEqual(desiredService(base, back.state).destinations[0], {address: '198.18.1.1', port: 80, weight: 9}, 'misc_dynamic weight wins')
  const alpha = initialState({...base, alpha: true})
  assert.deepEqual(desiredService({...base, alpha: true}, alpha).destinations, [{address: '198.18.1.2', port: 80, weight: 0}])
  assert.deepEqual(applyHealth(base, s, '198.18.9.9:80', {up: true}).notifications, [], 'unknown real server ignored')
})

test('quorum with hysteresis: lost below quorum-hysteresis, regained at quorum+hysteresis, scripts on each edge', () => {
  assert.equal(nextQuorum({quorum: 4, hysteresis: 1}, true, 3), true, 'inside the band stays up')
  assert.equal(nextQuorum({quorum: 4, hysteresis: 1}, true, 2), false)
  assert.equal(nextQuorum({quorum: 4, hysteresis: 1}, false, 4), false, 'inside the band stays down')
  assert.equal(nextQuorum({quorum: 4, hysteresis: 1}, false, 5), true)

  const cfg: VirtualServerConfig = {
    ...base, quorum: 3, hysteresis: 1, quorumUp: '/bin/qup', quorumDown: '/bin/qdown',
    realServers: [1, 2, 3].map((i) => ({address: `198.18.1.${i}`, port: 80, weight: 1, inhibitOnFailure: false})),
  }
  let s = initialState(cfg)
  assert.equal(s.quorumUp, true)
  const steps: string[] = []
  const go = (i: number, up: boolean): void => {
    const t = applyHealth(cfg, s, `198.18.1.${i}:80`, {up})
    s = t.state
    steps.push(`${s.quorumUp ? 'Q' : 'q'}${t.notifications.map((n) => ` ${n.script}`).join('')}`)
  }
  go(1, false) // weight 2 >= 3-1: still up
  go(2, false) // weight 1 < 2: lost
  go(2, true) // weight 2 < 3+1: still down
  go(1, true) // weight 3 < 4: still down
  go(1, false)
  go(1, true)
  assert.deepEqual(steps, ['Q', 'q /bin/qdown', 'q', 'q', 'q', 'q'])
  const full = {...cfg, hysteresis: 0}
  let f = initialState(full)
  f = applyHealth(full, f, '198.18.1.1:80', {up: false}).state
  const regained = applyHealth(full, f, '198.18.1.1:80', {up: true})
  assert.deepEqual(regained.notifications, [{event: 'quorum_up', script: '/bin/qup'}])
})

test('sorry server: takes the traffic when quorum is lost; with inhibit it idles at weight 0', () => {
  const cfg: VirtualServerConfig = {...base, sorryServer: {address: '198.18.2.1', port: 8080, inhibit: false}}
  let s = initialState(cfg)
  assert.equal(desiredService(cfg, s).destinations.some((d) => d.address === '198.18.2.1'), false)
  s = applyHealth(cfg, s, rs1, {up: false}).state
  s = applyHealth(cfg, s, rs2, {up: false}).state
  assert.deepEqual(desiredService(cfg, s).destinations, [
    {address: '198.18.1.2', port: 80, weight: 0},
    {address: '198.18.2.1', port: 8080, weight: 1},
  ])
  s = applyHealth(cfg, s, rs2, {up: true}).state
  assert.deepEqual(desiredService(cfg, s).destinations.map((d) => d.address), ['198.18.1.2'], 'quorum back: sorry server gone')
  const inhibit = {...cfg, sorryServer: {address: '198.18.2.1', port: 8080, inhibit: true}}
  assert.deepEqual(desiredService(inhibit, initialState(inhibit)).destinations.at(-1), {address: '198.18.2.1', port: 8080, weight: 0})
})

test('omega: tearing down runs notify_down for live servers and quorum_down', () => {
  const cfg = {...base, omega: true, quorumDown: '/bin/qdown'}
  assert.deepEqual(shutdownNotifications(cfg, initialState(cfg)), [
    {event: 'notify_down', script: '/bin/down rs1', realServer: rs1},
    {event: 'quorum_down', script: '/bin/qdown'},
  ])
  assert.deepEqual(shutdownNotifications(base, initialState(base)), [])
})

test('status: each real server with weight, up/down and its last check result', async () => {
  const {virtualServerStatus} = await import('../../src/daemon/check/virtual-server-status.js')
  const s = applyHealth(base, initialState(base), rs2, {up: false}).state
  const at = new Date('2026-01-02T03:04:05Z')
  const st = virtualServerStatus(base, s, 'nftables', new Map([[rs2, {at, result: {ok: false, latencyMs: 1.5, detail: 'refused'}}]]))
  assert.equal(st.key, '198.18.0.10:80')
  assert.equal(st.backend, 'nftables')
  assert.deepEqual(st.realServers[1], {address: '198.18.1.2', port: 80, weight: 1, up: false, lastCheck: {at: '2026-01-02T03:04:05.000Z', ok: false, detail: 'refused', latencyMs: 1.5}})
  assert.equal(st.realServers[0]!.lastCheck, null)
})
