import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {renderNftables, serviceId, type NftEnvironment} from '../../src/daemon/lb/nft-render.js'
import {chainSignature, diffTable, type NftFamily, type NftTable, type NftTableState} from '../../src/daemon/lb/nft-table.js'
import {nftablesProblems} from '../../src/daemon/lb/nft-support.js'
import {parseNftJson} from '../../src/daemon/lb/nft-read.js'
import type {VirtualService} from '../../src/daemon/lb/types.js'

const env: NftEnvironment = {
  interfaceMacs: {lo: '02:00:c6:12:00:01'},
  neighbours: {'198.18.1.1': '02:00:c6:12:01:01', '198.18.1.2': '02:00:c6:12:01:02'},
}

function vs(over: Partial<VirtualService>, weights: number[] = [2, 1]): VirtualService {
  return {
    key: {kind: 'address', family: 'ipv4', address: '198.18.0.10', port: 80, protocol: 'TCP'},
    algo: 'wrr', kind: 'NAT',
    destinations: weights.map((w, i) => ({address: `198.18.1.${i + 1}`, port: 8080, weight: w})),
    ...over,
  }
}

/** The full transaction from nothing, with rule signatures masked so goldens read cleanly. */
function fromScratch(services: VirtualService[]): string[] {
  const {tables} = renderNftables(services, env)
  return (['ip', 'ip6', 'netdev'] as NftFamily[])
    .flatMap((f) => diffTable(f, undefined, tables.get(f)))
    .map((l) => l.replace(/comment "kaopsd [0-9a-f]{16}"/, 'comment "kaopsd SIG"'))
}

/** What the kernel would report after applying `t` (how nft-read sees it). */
function asState(t: NftTable): NftTableState {
  return {
    family: t.family,
    chains: new Map([...t.chains].map(([n, c]) => [n, {signature: `${chainSignature(c)}#${c.rules.length}`}])),
    maps: new Map([...t.maps].map(([n, m]) => [n, {typeSig: m.typeSig, elements: new Map(m.elements)}])),
  }
}

test('NAT wrr: dispatch map, prerouting hook, numgen over weight-expanded interleaved slots (golden)', () => {
  assert.deepEqual(fromScratch([vs({})]), [
    'add table ip kaopsd',
    'add map ip kaopsd services { type ipv4_addr . inet_proto . inet_service : verdict; }',
    'add map ip kaopsd fwmarks { type mark : verdict; }',
    'add map ip kaopsd vs4_tcp_198_18_0_10_80 { typeof numgen inc mod 1 : ip daddr . tcp dport; }',
    'add chain ip kaopsd prerouting { type nat hook prerouting priority dstnat; policy accept; }',
    'add chain ip kaopsd vs4_tcp_198_18_0_10_80',
    'add rule ip kaopsd prerouting ip daddr . meta l4proto . th dport vmap @services comment "kaopsd SIG"',
    'add rule ip kaopsd prerouting meta mark vmap @fwmarks comment "kaopsd SIG"',
    'add rule ip kaopsd vs4_tcp_198_18_0_10_80 meta l4proto tcp dnat ip addr . port to numgen inc mod 3 map @vs4_tcp_198_18_0_10_80 comment "kaopsd SIG"',
    'add element ip kaopsd services { 198.18.0.10 . tcp . 80 : jump vs4_tcp_198_18_0_10_80 }',
    'add element ip kaopsd vs4_tcp_198_18_0_10_80 { 0 : 198.18.1.1 . 8080, 1 : 198.18.1.2 . 8080, 2 : 198.18.1.1 . 8080 }',
  ])
})

test('NAT rr ignores weights (one slot each) and leaves weight-0 servers out; weights reduce by their gcd', () => {
  const rr = fromScratch([vs({algo: 'rr'}, [5, 1, 0])])
  assert.ok(rr.includes('add element ip kaopsd vs4_tcp_198_18_0_10_80 { 0 : 198.18.1.1 . 8080, 1 : 198.18.1.2 . 8080 }'), rr.join('\n'))
  const wrr = fromScratch([vs({}, [40, 20])])
  assert.ok(wrr.some((l) => l.includes('numgen inc mod 3 ')))
})

test('NAT sh and persistence: jhash of the source (with the granularity mask) over a stable slot table', () => {
  const sh = fromScratch([vs({algo: 'sh', key: {kind: 'address', family: 'ipv4', address: '198.18.0.10', port: 53, protocol: 'UDP'}})])
  const rule = sh.find((l) => l.startsWith('add rule ip kaopsd vs4_udp'))
  assert.equal(rule, 'add rule ip kaopsd vs4_udp_198_18_0_10_53 meta l4proto udp dnat ip addr . port to jhash ip saddr mod 256 seed 0x6b61 map @vs4_udp_198_18_0_10_53 comment "kaopsd SIG"')
  const elems = sh.filter((l) => l.startsWith('add element ip kaopsd vs4_udp')).join(' ')
  assert.equal(elems.match(/198\.18\.1\.1 \. 8080/g)?.length, 171, 'weight 2 of 3 -> 171 of 256 slots')
  assert.equal(elems.match(/198\.18\.1\.2 \. 8080/g)?.length, 85)
  const persist = fromScratch([vs({algo: 'rr', persistenceTimeoutS: 300, persistencePrefix: 24})])
  assert.ok(persist.some((l) => l.includes('dnat ip addr . port to jhash ip saddr and 255.255.255.0 mod 256 seed 0x6b61 map')), persist.join('\n'))
})

test('NAT fwmark and IPv6 services', () => {
  const fw = fromScratch([vs({algo: 'rr', key: {kind: 'fwmark', family: 'ipv4', mark: 7}})])
  assert.ok(fw.includes('add map ip kaopsd fwm4_7 { typeof numgen inc mod 1 : ip daddr; }'))
  assert.ok(fw.includes('add rule ip kaopsd fwm4_7 dnat ip to numgen inc mod 2 map @fwm4_7 comment "kaopsd SIG"'))
  assert.ok(fw.includes('add element ip kaopsd fwmarks { 7 : jump fwm4_7 }'))
  const v6 = fromScratch([{
    key: {kind: 'address', family: 'ipv6', address: 'fd00:0::10', port: 443, protocol: 'TCP'}, algo: 'rr', kind: 'NAT',
    destinations: [{address: 'fd00::1:1', port: 443, weight: 1}],
  }])
  assert.equal(serviceId({kind: 'address', family: 'ipv6', address: 'FD00:0:0::10', port: 443, protocol: 'TCP'}), 'vs6_tcp_fd00__10_443')
  assert.ok(v6.includes('add element ip6 kaopsd services { fd00::10 . tcp . 443 : jump vs6_tcp_fd00__10_443 }'), v6.join('\n'))
  assert.ok(v6.includes('add element ip6 kaopsd vs6_tcp_fd00__10_443 { 0 : fd00::1:1 . 443 }'))
})

test('DR: netdev ingress on the interface, both MACs rewritten, forwarded out, flow hash (golden rule)', () => {
  const dr = fromScratch([vs({kind: 'DR', interface: 'lo', algo: 'wrr'}, [1, 1])])
  assert.deepEqual(dr.slice(0, 6), [
    'add table netdev kaopsd',
    'add map netdev kaopsd dr4_lo { type ipv4_addr . inet_proto . inet_service : verdict; }',
    'add map netdev kaopsd dr6_lo { type ipv6_addr . inet_proto . inet_service : verdict; }',
    'add map netdev kaopsd vs4_tcp_198_18_0_10_80 { typeof numgen inc mod 1 : ether daddr; }',
    'add chain netdev kaopsd in_lo { type filter hook ingress device "lo" priority 0; policy accept; }',
    'add chain netdev kaopsd vs4_tcp_198_18_0_10_80',
  ])
  assert.ok(dr.includes('add rule netdev kaopsd vs4_tcp_198_18_0_10_80 ether saddr set 02:00:c6:12:00:01 ether daddr set jhash ip saddr . th sport mod 256 seed 0x6b61 map @vs4_tcp_198_18_0_10_80 fwd to "lo" comment "kaopsd SIG"'))
  assert.ok(dr.includes('add element netdev kaopsd dr4_lo { 198.18.0.10 . tcp . 80 : jump vs4_tcp_198_18_0_10_80 }'))
  assert.ok(dr.some((l) => l.startsWith('add element netdev kaopsd vs4_tcp_198_18_0_10_80 { 0 : 02:00:c6:12:01:01, 1 : 02:00:c6:12:01:02,')))
  const unresolved = renderNftables([vs({kind: 'DR', interface: 'lo'}, [1, 1, 1])], env)
  assert.match(unresolved.warnings.join('\n'), /real server 198\.18\.1\.3 has no neighbour entry on lo/)
})

test('reconcile: an unchanged desired state is an empty transaction; a failed server touches only its elements', () => {
  const services = [vs({}, [1, 1]), vs({algo: 'sh', key: {kind: 'address', family: 'ipv4', address: '198.18.0.11', port: 80, protocol: 'TCP'}}, [1, 1, 1])]
  const first = renderNftables(services, env)
  const state = asState(first.tables.get('ip')!)
  const current = new Map<NftFamily, NftTableState | undefined>([['ip', state]])
  assert.deepEqual(diffTable('ip', state, renderNftables(services, env, current).tables.get('ip')), [])

  const after = [vs({}, [1, 0]), vs({algo: 'sh', key: {kind: 'address', family: 'ipv4', address: '198.18.0.11', port: 80, protocol: 'TCP'}}, [1, 0, 1])]
  const tx = diffTable('ip', state, renderNftables(after, env, current).tables.get('ip'))
  // rr: the modulus changes, so the one-rule chain is refilled in the same transaction.
  assert.equal(tx.filter((l) => l.startsWith('flush chain')).join(), 'flush chain ip kaopsd vs4_tcp_198_18_0_10_80')
  assert.ok(tx.includes('delete element ip kaopsd vs4_tcp_198_18_0_10_80 { 1 }'))
  assert.ok(!tx.some((l) => /services|prerouting|add table|add chain|delete chain/.test(l)), tx.join('\n'))
  // sh: only the slots that pointed at 198.18.1.2 move; every slot of a healthy server stays.
  const shOld = state.maps.get('vs4_tcp_198_18_0_11_80')!.elements
  const shNew = renderNftables(after, env, current).tables.get('ip')!.maps.get('vs4_tcp_198_18_0_11_80')!.elements
  let moved = 0
  for (const [k, v] of shOld) {
    if (v.startsWith('198.18.1.2')) assert.notEqual(shNew.get(k), v)
    else if (shNew.get(k) !== v) moved++
  }
  assert.equal(moved, 0)
  assert.ok(!tx.includes('flush chain ip kaopsd vs4_tcp_198_18_0_11_80'), 'fixed slot count: the sh rule is untouched')
})

test('reconcile: removing services deletes their elements, chains and maps in a safe order; nothing left deletes the table', () => {
  const two = [vs({}), vs({key: {kind: 'fwmark', family: 'ipv4', mark: 3}})]
  const state = asState(renderNftables(two, env).tables.get('ip')!)
  const tx = diffTable('ip', state, renderNftables([vs({})], env).tables.get('ip'))
  assert.deepEqual(tx, [
    'flush chain ip kaopsd fwm4_3',
    'delete element ip kaopsd fwmarks { 3 }',
    'delete chain ip kaopsd fwm4_3',
    'delete map ip kaopsd fwm4_3',
  ])
  assert.deepEqual(diffTable('ip', state, undefined), ['delete table ip kaopsd'])
  assert.deepEqual(diffTable('ip', undefined, undefined), [])
})

test('nft -j read-back: signatures and elements as the diff compares them', () => {
  const json = JSON.stringify({nftables: [
    {metainfo: {version: '1.0.6'}},
    {table: {family: 'ip', name: 'kaopsd'}},
    {map: {family: 'ip', name: 'services', table: 'kaopsd', type: ['ipv4_addr', 'inet_proto', 'inet_service'], map: 'verdict',
      elem: [[{concat: ['198.18.0.10', 'tcp', 80]}, {jump: {target: 'vs1'}}]]}},
    {map: {family: 'ip', name: 'vs1', table: 'kaopsd', type: 'integer', map: 'ipv4_addr . inet_service', elem: [[0, {concat: ['198.18.1.1', 80]}]]}},
    {chain: {family: 'ip', table: 'kaopsd', name: 'vs1'}},
    {chain: {family: 'ip', table: 'kaopsd', name: 'mixed'}},
    {rule: {family: 'ip', table: 'kaopsd', chain: 'vs1', comment: 'kaopsd abc'}},
    {rule: {family: 'ip', table: 'kaopsd', chain: 'mixed', comment: 'kaopsd abc'}},
    {rule: {family: 'ip', table: 'kaopsd', chain: 'mixed'}},
  ]})
  const s = parseNftJson('ip', json)
  assert.deepEqual(s.maps.get('services'), {typeSig: 'ipv4_addr . inet_proto . inet_service : verdict', elements: new Map([['198.18.0.10 . tcp . 80', 'jump vs1']])})
  assert.deepEqual(s.maps.get('vs1')?.elements, new Map([['0', '198.18.1.1 . 80']]))
  assert.equal(s.chains.get('vs1')?.signature, 'abc#1')
  assert.equal(s.chains.get('mixed')?.signature, '', 'a rule without our signature marks the chain for rewriting')
})

test('unsupported algorithms and kinds are config errors that list what is supported', () => {
  const problems = nftablesProblems([vs({algo: 'lc'}), vs({algo: 'dh', kind: 'TUN'}), vs({kind: 'DR'}), vs({kind: 'DR', interface: 'eth0', key: {kind: 'fwmark', family: 'ipv4', mark: 1}})])
  assert.match(problems[0]!, /virtual_server TCP 198\.18\.0\.10:80: lb_algo lc is not supported by the nftables backend \(supported: rr, wrr, sh/)
  assert.match(problems.join('\n'), /lb_kind TUN is not supported.*\(supported: NAT, DR\)/)
  assert.match(problems.join('\n'), /needs the director's interface/)
  assert.match(problems.join('\n'), /fwmark 1: lb_kind DR with fwmark/)
  assert.deepEqual(nftablesProblems([vs({}), vs({algo: 'sh', kind: 'DR', interface: 'eth0'})]), [])
})

test('the rendered transactions are accepted by nft itself (nft -c in a private network namespace)', (t) => {
  try {
    execFileSync('unshare', ['-n', 'nft', '--version'], {stdio: 'ignore'})
  } catch {
    t.skip('needs root, unshare and nft to dry-run the transaction')
    return
  }
  const all = [
    vs({}), vs({algo: 'rr', key: {kind: 'fwmark', family: 'ipv4', mark: 7}}),
    vs({algo: 'sh', persistenceTimeoutS: 60, persistencePrefix: 24, key: {kind: 'address', family: 'ipv4', address: '198.18.0.10', port: 53, protocol: 'UDP'}}),
    vs({kind: 'DR', interface: 'lo', key: {kind: 'address', family: 'ipv4', address: '198.18.0.12', port: 80, protocol: 'TCP'}}),
    {key: {kind: 'address', family: 'ipv6', address: 'fd00::10', port: 443, protocol: 'TCP'}, algo: 'sh', kind: 'NAT', persistencePrefix: 64, destinations: [{address: 'fd00::1:1', port: 443, weight: 1}]},
  ] satisfies VirtualService[]
  const text = fromScratch(all).join('\n') + '\n'
  execFileSync('unshare', ['-n', 'nft', '-c', '-f', '-'], {input: text})
})
