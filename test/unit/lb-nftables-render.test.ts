import {test, type TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {renderNftables, serviceId, type NftEnvironment} from '../../src/daemon/lb/nft-render.js'
import {chainSignature, diffTable, type NftFamily, type NftTable, type NftTableState} from '../../src/daemon/lb/nft-table.js'
import {nftablesProblems} from '../../src/daemon/lb/nft-support.js'
import {parseNftJson} from '../../src/daemon/lb/nft-read.js'
import type {VirtualService} from '../../src/daemon/lb/types.js'
import {NftablesBackend} from '../../src/daemon/lb/nftables-backend.js'
import type {LbExec} from '../../src/daemon/lb/lb-exec.js'

const env: NftEnvironment = {
  interfaceMacs: {lo: '02:00:c6:12:00:01'},
  neighbours: {'198.18.1.1': '02:00:c6:12:01:01', '198.18.1.2': '02:00:c6:12:01:02', 'fd00::1:1': '02:00:c6:12:01:03'},
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

test('NAT sh: jhash of the source (with the granularity mask) over a stable slot table', () => {
  const sh = fromScratch([vs({algo: 'sh', key: {kind: 'address', family: 'ipv4', address: '198.18.0.10', port: 53, protocol: 'UDP'}})])
  const rule = sh.find((l) => l.startsWith('add rule ip kaopsd vs4_udp'))
  assert.equal(rule, 'add rule ip kaopsd vs4_udp_198_18_0_10_53 meta l4proto udp dnat ip addr . port to jhash ip saddr mod 256 seed 0x6b61 map @vs4_udp_198_18_0_10_53 comment "kaopsd SIG"')
  const elems = sh.filter((l) => l.startsWith('add element ip kaopsd vs4_udp')).join(' ')
  assert.equal(elems.match(/198\.18\.1\.1 \. 8080/g)?.length, 171, 'weight 2 of 3 -> 171 of 256 slots')
  assert.equal(elems.match(/198\.18\.1\.2 \. 8080/g)?.length, 85)
  const masked = fromScratch([vs({algo: 'sh', persistencePrefix: 24})])
  assert.ok(masked.some((l) => l.includes('dnat ip addr . port to jhash ip saddr and 255.255.255.0 mod 256 seed 0x6b61 map')), masked.join('\n'))
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

test('NAT persistence_timeout: a timed client map checked before the usual schedule, refreshed after NAT (golden)', () => {
  const tx = fromScratch([vs({algo: 'rr', persistenceTimeoutS: 3, persistencePrefix: 24})])
  const id = 'vs4_tcp_198_18_0_10_80'
  for (const line of [
    `add map ip kaopsd ${id}_persist { type ipv4_addr : ipv4_addr . inet_service; flags dynamic,timeout; timeout 3s; size 65536; }`,
    'add map ip kaopsd persistent { type ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service : verdict; }',
    'add chain ip kaopsd persistence { type filter hook prerouting priority dstnat + 1; policy accept; }',
    // Known client first, then the ordinary rr schedule (numgen: persistence no longer means hashing).
    `add rule ip kaopsd ${id} meta l4proto tcp dnat ip addr . port to ip saddr and 255.255.255.0 map @${id}_persist comment "kaopsd SIG"`,
    `add rule ip kaopsd ${id} meta l4proto tcp dnat ip addr . port to numgen inc mod 2 map @${id} comment "kaopsd SIG"`,
    `add rule ip kaopsd ${id}_refresh update @${id}_persist { ip saddr and 255.255.255.0 : ip daddr . th dport } comment "kaopsd SIG"`,
    'add rule ip kaopsd persistence meta l4proto tcp ct direction original ct original ip daddr . meta l4proto . ct original proto-dst . ip daddr . th dport vmap @persistent comment "kaopsd SIG"',
    'add rule ip kaopsd persistence ct direction original meta mark . ip daddr vmap @persistent_fwmarks comment "kaopsd SIG"',
    // Only the service's real servers refresh a client: one element per (service, real server).
    `add element ip kaopsd persistent { 198.18.0.10 . tcp . 80 . 198.18.1.1 . 8080 : jump ${id}_refresh, 198.18.0.10 . tcp . 80 . 198.18.1.2 . 8080 : jump ${id}_refresh }`,
  ]) assert.ok(tx.includes(line), `missing: ${line}\n${tx.join('\n')}`)
  assert.ok(!tx.some((l) => l.startsWith(`add element ip kaopsd ${id}_persist`)), 'the client map is filled by packets only')

  const fw = fromScratch([vs({algo: 'wrr', persistenceTimeoutS: 360, key: {kind: 'fwmark', family: 'ipv4', mark: 7}})])
  assert.ok(fw.includes('add map ip kaopsd fwm4_7_persist { type ipv4_addr : ipv4_addr; flags dynamic,timeout; timeout 360s; size 65536; }'), fw.join('\n'))
  assert.ok(fw.includes('add rule ip kaopsd fwm4_7 dnat ip to ip saddr map @fwm4_7_persist comment "kaopsd SIG"'))
  assert.ok(fw.includes('add rule ip kaopsd fwm4_7_refresh update @fwm4_7_persist { ip saddr : ip daddr } comment "kaopsd SIG"'))
  assert.ok(fw.includes('add element ip kaopsd persistent_fwmarks { 7 . 198.18.1.1 : jump fwm4_7_refresh, 7 . 198.18.1.2 : jump fwm4_7_refresh }'))

  const plain = fromScratch([vs({algo: 'rr'})])
  assert.ok(!plain.some((l) => /persist/.test(l)), 'no persistence: no client map, no refresh hook')

  // IPv6: nft 1.0.6 cannot write (IPv6 address . port) from the packet path, so the address is
  // remembered and the port is the one the real servers share.
  const v6 = fromScratch([{
    key: {kind: 'address', family: 'ipv6', address: 'fd00::10', port: 443, protocol: 'TCP'}, algo: 'rr', kind: 'NAT', persistenceTimeoutS: 300, persistencePrefix: 64,
    destinations: [{address: 'fd00::1:1', port: 8443, weight: 1}, {address: 'fd00::1:2', port: 8443, weight: 1}],
  }])
  const id6 = 'vs6_tcp_fd00__10_443'
  for (const line of [
    `add map ip6 kaopsd ${id6}_persist { type ipv6_addr : ipv6_addr; flags dynamic,timeout; timeout 300s; size 65536; }`,
    `add rule ip6 kaopsd ${id6} meta l4proto tcp dnat ip6 to ip6 saddr and ffff:ffff:ffff:ffff:: map @${id6}_persist : 8443 comment "kaopsd SIG"`,
    `add rule ip6 kaopsd ${id6}_refresh update @${id6}_persist { ip6 saddr and ffff:ffff:ffff:ffff:: : ip6 daddr } comment "kaopsd SIG"`,
    'add rule ip6 kaopsd persistence meta l4proto udp ct direction original ct original ip6 daddr . meta l4proto . ct original proto-dst . ip6 daddr . th dport vmap @persistent comment "kaopsd SIG"',
  ]) assert.ok(v6.includes(line), `missing: ${line}\n${v6.join('\n')}`)
  assert.deepEqual(nftablesProblems([{
    key: {kind: 'address', family: 'ipv6', address: 'fd00::10', port: 443, protocol: 'TCP'}, algo: 'rr', kind: 'NAT', persistenceTimeoutS: 300,
    destinations: [{address: 'fd00::1:1', port: 8443, weight: 1}, {address: 'fd00::1:2', port: 443, weight: 1}],
  }]), ['virtual_server TCP [fd00::10]:443: persistence_timeout on an IPv6 service whose real servers listen on different ports (8443, 443) is not supported by the nftables backend (give them one port, or use lvs_backend ipvs)'])
  assert.deepEqual(nftablesProblems([vs({persistenceTimeoutS: 300, destinations: [{address: '198.18.1.1', port: 80, weight: 1}, {address: '198.18.1.2', port: 81, weight: 1}]})]), [], 'IPv4 remembers address and port')
})

test('DR persistence_timeout: look up, refresh and forward in the ingress chain; new clients hashed by address and remembered', () => {
  const dr = fromScratch([vs({kind: 'DR', interface: 'lo', algo: 'wrr', persistenceTimeoutS: 50}, [1, 1])])
  const id = 'vs4_tcp_198_18_0_10_80'
  assert.ok(dr.includes(`add map netdev kaopsd ${id}_persist { type ipv4_addr : ether_addr; flags dynamic,timeout; timeout 50s; size 65536; }`), dr.join('\n'))
  const rules = dr.filter((l) => l.startsWith(`add rule netdev kaopsd ${id} `)).map((l) => l.slice(`add rule netdev kaopsd ${id} `.length).replace(' comment "kaopsd SIG"', ''))
  assert.deepEqual(rules, [
    `ether daddr set ip saddr map @${id}_persist update @${id}_persist { ip saddr : ether daddr } ether saddr set 02:00:c6:12:00:01 fwd to "lo"`,
    `ether daddr set jhash ip saddr mod 256 seed 0x6b61 map @${id} update @${id}_persist { ip saddr : ether daddr } ether saddr set 02:00:c6:12:00:01 fwd to "lo"`,
    `ether daddr set jhash ip saddr mod 256 seed 0x6b61 map @${id} ether saddr set 02:00:c6:12:00:01 fwd to "lo"`,
  ])
  assert.ok(!dr.some((l) => l.includes('persistence')), 'DR needs no refresh hook: every packet passes the service chain')
})

test('persistence reconcile: remembered clients are left alone, those of a departed server evicted, a new timeout re-creates the map', () => {
  const id = 'vs4_tcp_198_18_0_10_80'
  const services = [vs({algo: 'rr', persistenceTimeoutS: 3}, [1, 1, 1])]
  const state = asState(renderNftables(services, env).tables.get('ip')!)
  // What the packet path put there, as read back.
  state.maps.get(`${id}_persist`)!.elements = new Map([
    ['198.18.70.2', '198.18.1.1 . 8080'], ['198.18.70.3', '198.18.1.2 . 8080'], ['198.18.70.4', '198.18.1.2 . 8080'], ['198.18.70.5', '198.18.1.3 . 8080'],
  ])
  const current = new Map<NftFamily, NftTableState | undefined>([['ip', state]])
  assert.deepEqual(diffTable('ip', state, renderNftables(services, env, current).tables.get('ip')), [], 'remembered clients are not the reconcile\'s to remove')

  // 198.18.1.2 fails (no inhibit_on_failure: it leaves), 198.18.1.3 goes quiescent (weight 0: keeps its clients, as IPVS does).
  const failed = vs({algo: 'rr', persistenceTimeoutS: 3}, [1, 1, 0])
  failed.destinations = failed.destinations.filter((d) => d.address !== '198.18.1.2')
  const tx = diffTable('ip', state, renderNftables([failed], env, current).tables.get('ip'))
  assert.deepEqual(tx.filter((l) => l.includes(`${id}_persist {`)), [
    `add element ip kaopsd ${id}_persist { 198.18.70.3 : 198.18.1.2 . 8080, 198.18.70.4 : 198.18.1.2 . 8080 }`,
    `delete element ip kaopsd ${id}_persist { 198.18.70.3, 198.18.70.4 }`,
  ])
  assert.ok(tx.includes(`delete element ip kaopsd persistent { 198.18.0.10 . tcp . 80 . 198.18.1.2 . 8080 }`), tx.join('\n'))
  assert.ok(!tx.some((l) => l.includes('198.18.1.3 . 8080') && l.startsWith('delete')), 'the quiescent server keeps its clients and refresh entry')

  const retimed = diffTable('ip', state, renderNftables([vs({algo: 'rr', persistenceTimeoutS: 60}, [1, 1, 1])], env, current).tables.get('ip'))
  assert.ok(retimed.includes(`delete map ip kaopsd ${id}_persist`) && retimed.some((l) => l.includes(`${id}_persist { type ipv4_addr : ipv4_addr . inet_service; flags dynamic,timeout; timeout 60s;`)), retimed.join('\n'))
  assert.ok(retimed.indexOf(`flush chain ip kaopsd ${id}`) < retimed.indexOf(`delete map ip kaopsd ${id}_persist`), 'rules using the map go before it does')

  // Persistence switched off: the hook, its maps and chains go, maps before the chains they jump to.
  const off = diffTable('ip', state, renderNftables([vs({algo: 'rr'}, [1, 1, 1])], env, current).tables.get('ip'))
  assert.ok(off.indexOf('delete map ip kaopsd persistent') < off.indexOf(`delete chain ip kaopsd ${id}_refresh`), off.join('\n'))
  assert.ok(off.includes('delete chain ip kaopsd persistence'))
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
    'delete map ip kaopsd fwm4_3',
    'delete chain ip kaopsd fwm4_3',
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

/** Skips the test (true) when this machine cannot run nft in a private network namespace. */
function skipWithoutNft(t: TestContext, why = ''): boolean {
  try {
    execFileSync('unshare', ['-n', 'nft', '--version'], {stdio: 'ignore'})
    return false
  } catch {
    t.skip(`needs root, unshare and nft${why ? ` ${why}` : ''}`)
    return true
  }
}

test('the rendered transactions are accepted by nft itself (nft -c in a private network namespace)', (t) => {
  if (skipWithoutNft(t, 'to dry-run the transaction')) return
  const all = [
    vs({}), vs({algo: 'rr', key: {kind: 'fwmark', family: 'ipv4', mark: 7}}),
    vs({algo: 'sh', persistenceTimeoutS: 60, persistencePrefix: 24, key: {kind: 'address', family: 'ipv4', address: '198.18.0.10', port: 53, protocol: 'UDP'}}),
    vs({kind: 'DR', interface: 'lo', key: {kind: 'address', family: 'ipv4', address: '198.18.0.12', port: 80, protocol: 'TCP'}}),
    {key: {kind: 'address', family: 'ipv6', address: 'fd00::10', port: 443, protocol: 'TCP'}, algo: 'sh', kind: 'NAT', persistencePrefix: 64, destinations: [{address: 'fd00::1:1', port: 443, weight: 1}]},
    // persistence_timeout in every shape the backend accepts.
    vs({algo: 'rr', persistenceTimeoutS: 3, persistencePrefix: 24, key: {kind: 'address', family: 'ipv4', address: '198.18.0.13', port: 80, protocol: 'TCP'}}),
    vs({algo: 'wrr', persistenceTimeoutS: 2678400, key: {kind: 'fwmark', family: 'ipv4', mark: 8}}),
    vs({kind: 'DR', interface: 'lo', persistenceTimeoutS: 50, persistencePrefix: 24, key: {kind: 'address', family: 'ipv4', address: '198.18.0.14', port: 80, protocol: 'TCP'}}),
    {key: {kind: 'address', family: 'ipv6', address: 'fd00::11', port: 9, protocol: 'SCTP'}, algo: 'rr', kind: 'NAT', persistenceTimeoutS: 300, persistencePrefix: 64, destinations: [{address: 'fd00::1:1', port: 9, weight: 1}]},
    {key: {kind: 'fwmark', family: 'ipv6', mark: 9}, algo: 'rr', kind: 'NAT', persistenceTimeoutS: 300, destinations: [{address: 'fd00::1:1', port: 0, weight: 1}]},
    {key: {kind: 'address', family: 'ipv6', address: 'fd00::12', port: 80, protocol: 'TCP'}, algo: 'wrr', kind: 'DR', interface: 'lo', persistenceTimeoutS: 30, persistencePrefix: 64, destinations: [{address: 'fd00::1:1', port: 80, weight: 1}]},
  ] satisfies VirtualService[]
  const text = fromScratch(all).join('\n') + '\n'
  assert.equal(text.match(/_persist \{ type/g)?.length, 7, 'seven persistent services rendered')
  execFileSync('unshare', ['-n', 'nft', '-c', '-f', '-'], {input: text})
})

/** `nft ARGS` in a private network namespace held open by a sleeping child (killed when the test ends). */
async function privateNft(t: TestContext): Promise<(args: string[], input?: string) => string> {
  const holder = spawn('unshare', ['-n', 'sleep', '600'], {stdio: 'ignore'})
  t.after(() => holder.kill('SIGKILL'))
  await new Promise((r) => setTimeout(r, 200))
  return (args, input) => execFileSync('nsenter', ['-t', String(holder.pid), '-n', 'nft', ...args], {encoding: 'utf8', stdio: 'pipe', ...(input === undefined ? {} : {input})})
}

test('persistence against the kernel: read back it agrees, packet-path clients survive a reconcile, a departed server\'s are evicted, switching off removes it all', async (t) => {
  if (skipWithoutNft(t)) return
  const inNs = await privateNft(t)
  const read = (): Map<NftFamily, NftTableState | undefined> => new Map([['ip', parseNftJson('ip', inNs(['-j', 'list', 'table', 'ip', 'kaopsd']))]])
  const apply = (desired: VirtualService[], current: Map<NftFamily, NftTableState | undefined>): string[] => {
    const tx = diffTable('ip', current.get('ip'), renderNftables(desired, env, current).tables.get('ip'))
    if (tx.length > 0) inNs(['-f', '-'], tx.join('\n') + '\n')
    return tx
  }
  const id = 'vs4_tcp_198_18_0_10_80'
  const three = (): VirtualService => vs({algo: 'rr', persistenceTimeoutS: 30, persistencePrefix: 24}, [1, 1, 1])
  const fwm = (): VirtualService => vs({algo: 'rr', persistenceTimeoutS: 30, key: {kind: 'fwmark', family: 'ipv4', mark: 5}}, [1, 1])
  apply([three(), fwm()], new Map([['ip', undefined]]))
  assert.deepEqual(apply([three(), fwm()], read()), [], 'what nft -j reports is what the render wants')

  // What `update` from the packet path would leave: elements carrying their own expiry.
  inNs(['add', 'element', 'ip', 'kaopsd', `${id}_persist`, '{ 198.18.70.0 timeout 30s : 198.18.1.1 . 8080, 198.18.71.0 timeout 30s : 198.18.1.2 . 8080 }'])
  inNs(['add', 'element', 'ip', 'kaopsd', 'fwm4_5_persist', '{ 198.18.72.5 timeout 30s : 198.18.1.2 }'])
  assert.deepEqual(apply([three(), fwm()], read()), [], 'the clients are left alone')
  assert.deepEqual(read().get('ip')!.maps.get(`${id}_persist`)!.elements, new Map([['198.18.70.0', '198.18.1.1 . 8080'], ['198.18.71.0', '198.18.1.2 . 8080']]))

  // 198.18.1.2 leaves both services: its clients go in the same transaction, nobody else's.
  const without2 = (v: VirtualService): VirtualService => ({...v, destinations: v.destinations.filter((d) => d.address !== '198.18.1.2')})
  // Between the read and the transaction, one of them times out: the eviction must still apply.
  const before = read()
  inNs(['delete', 'element', 'ip', 'kaopsd', `${id}_persist`, '{ 198.18.71.0 }'])
  apply([without2(three()), without2(fwm())], before)
  const now = read().get('ip')!
  assert.deepEqual(now.maps.get(`${id}_persist`)!.elements, new Map([['198.18.70.0', '198.18.1.1 . 8080']]))
  assert.equal(now.maps.get('fwm4_5_persist')!.elements.size, 0)
  assert.ok(![...now.maps.get('persistent')!.elements.keys()].some((k) => k.includes('198.18.1.2')))
  assert.deepEqual(apply([without2(three()), without2(fwm())], read()), [])

  apply([vs({algo: 'rr'}, [1, 1, 1])], read())
  const off = inNs(['list', 'table', 'ip', 'kaopsd'])
  assert.doesNotMatch(off, /persist|refresh/, off)
})

test('backend: a client rescheduled between the read and the eviction makes the transaction fail once; a fresh read applies it', async (t) => {
  if (skipWithoutNft(t)) return
  const inNs = await privateNft(t)
  const id = 'vs4_tcp_198_18_0_10_80'
  let transactions = 0
  let raced = false
  const exec: LbExec = async (file, args, input) => {
    assert.equal(file, 'nft')
    if (args[0] === '-f' && input?.includes(`delete element ip kaopsd ${id}_persist`) && !raced) {
      // What the packet path could do in that moment: the entry times out and the client is
      // scheduled to 198.18.1.3, a server that stays.
      raced = true
      inNs(['delete', 'element', 'ip', 'kaopsd', `${id}_persist`, '{ 198.18.70.2 }'])
      inNs(['add', 'element', 'ip', 'kaopsd', `${id}_persist`, '{ 198.18.70.2 timeout 30s : 198.18.1.3 . 8080 }'])
    }
    if (args[0] === '-f') transactions++
    return inNs([...args], input)
  }
  const backend = new NftablesBackend(exec)
  const service = (weights: number[]): VirtualService => vs({algo: 'rr', persistenceTimeoutS: 30}, weights)
  await backend.reconcile([service([1, 1, 1])])
  inNs(['add', 'element', 'ip', 'kaopsd', `${id}_persist`, '{ 198.18.70.2 timeout 30s : 198.18.1.2 . 8080, 198.18.70.3 timeout 30s : 198.18.1.2 . 8080 }'])
  transactions = 0
  const failed = service([1, 1, 1])
  failed.destinations = failed.destinations.filter((d) => d.address !== '198.18.1.2')
  const report = await backend.reconcile([failed])
  assert.equal(transactions, 2, 'the clashing transaction, then the one from a fresh read')
  assert.match(report.applied, /delete element ip kaopsd vs4_tcp_198_18_0_10_80_persist \{ 198\.18\.70\.3 \}/)
  const now = (await backend.readCurrent()).get('ip')!
  assert.deepEqual(now.maps.get(`${id}_persist`)!.elements, new Map([['198.18.70.2', '198.18.1.3 . 8080']]), 'the rescheduled client is kept')
  assert.ok(![...now.maps.get(id)!.elements.values()].includes('198.18.1.2 . 8080'), 'and the server change went in')
  await backend.clear()
})
