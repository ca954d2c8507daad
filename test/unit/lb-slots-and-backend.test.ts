import {test} from 'node:test'
import assert from 'node:assert/strict'
import {quotas, reduceWeights, roundRobinSlots, stableHashSlots} from '../../src/daemon/lb/slots.js'
import {chooseBackend, createBackend} from '../../src/daemon/lb/select-backend.js'

test('round-robin slots: weights reduced by gcd and interleaved smoothly', () => {
  assert.deepEqual(reduceWeights([{key: 'a', weight: 40}, {key: 'b', weight: 20}, {key: 'c', weight: 0}]), [{key: 'a', weight: 2}, {key: 'b', weight: 1}])
  assert.deepEqual(roundRobinSlots([{key: 'a', weight: 5}, {key: 'b', weight: 1}, {key: 'c', weight: 1}]), ['a', 'a', 'b', 'a', 'c', 'a', 'a'])
  assert.deepEqual(roundRobinSlots([{key: 'a', weight: 0}]), [])
  const huge = roundRobinSlots([{key: 'a', weight: 100000}, {key: 'b', weight: 1}])
  assert.ok(huge.length <= 1025 && huge.includes('b'), 'capped, and every live server keeps a slot')
})

test('hash slots: proportional quotas; a departed server loses its slots and nobody else moves', () => {
  const q = quotas([{key: 'a', weight: 1}, {key: 'b', weight: 1}, {key: 'c', weight: 1}], 256)
  assert.deepEqual([...q.values()], [86, 85, 85])
  const three = stableHashSlots([], [{key: 'a', weight: 1}, {key: 'b', weight: 1}, {key: 'c', weight: 1}], 256)
  const two = stableHashSlots(three, [{key: 'a', weight: 1}, {key: 'c', weight: 1}], 256)
  three.forEach((owner, i) => {
    if (owner !== 'b') assert.equal(two[i], owner, `slot ${i} kept its server`)
  })
  assert.equal(two.filter((k) => k === 'a').length, 128)
  // b comes back: it takes slots only from the others' surplus, a and c keep the rest.
  const back = stableHashSlots(two, [{key: 'a', weight: 1}, {key: 'b', weight: 1}, {key: 'c', weight: 1}], 256)
  const moved = back.filter((k, i) => k !== two[i]).length
  assert.equal(moved, 85)
})

test('lvs_backend: auto picks IPVS only when the kernel has it, and says why', () => {
  assert.equal(chooseBackend('auto', true).name, 'ipvs')
  assert.deepEqual(chooseBackend('auto', false), {name: 'nftables', reason: 'lvs_backend auto: no /proc/net/ip_vs (no IPVS in this kernel), using nftables'})
  assert.equal(chooseBackend('ipvs', false).name, 'ipvs')
  const logged: string[] = []
  const b = createBackend('auto', (l) => logged.push(l), {procIpVs: '/nonexistent/ip_vs'})
  assert.equal(b.name, 'nftables')
  assert.match(logged[0]!, /^load balancing data plane: nftables \(lvs_backend auto: no \/proc\/net\/ip_vs/)
})
