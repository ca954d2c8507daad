import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {diffIpvs, parseIpvsSave, renderIpvs} from '../../src/daemon/lb/ipvs-render.js'
import {IpvsBackend} from '../../src/daemon/lb/ipvs-backend.js'
import {lbAlgos, type VirtualService} from '../../src/daemon/lb/types.js'

const web: VirtualService = {
  key: {kind: 'address', family: 'ipv4', address: '198.18.0.10', port: 80, protocol: 'TCP'},
  algo: 'wlc', kind: 'NAT', persistenceTimeoutS: 300, persistencePrefix: 24,
  destinations: [{address: '198.18.1.1', port: 80, weight: 3}, {address: '198.18.1.2', port: 80, weight: 0}],
}

function restore(services: VirtualService[], current = ''): string[] {
  return diffIpvs(parseIpvsSave(current), renderIpvs(services))
}

test('IPVS: restore lines for a NAT service with persistence and a quiescent server (golden)', () => {
  assert.deepEqual(restore([web]), [
    '-A -t 198.18.0.10:80 -s wlc -p 300 -M 255.255.255.0',
    '-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 3',
    '-a -t 198.18.0.10:80 -r 198.18.1.2:80 -m -w 0',
  ])
})

test('IPVS: every lb_algo and lb_kind, UDP, SCTP, fwmark and IPv6', () => {
  for (const algo of lbAlgos) assert.equal(restore([{...web, algo, persistenceTimeoutS: 0}])[0], `-A -t 198.18.0.10:80 -s ${algo}`)
  assert.equal(restore([{...web, kind: 'DR'}])[1], '-a -t 198.18.0.10:80 -r 198.18.1.1:80 -g -w 3')
  assert.equal(restore([{...web, kind: 'TUN'}])[1], '-a -t 198.18.0.10:80 -r 198.18.1.1:80 -i -w 3')
  assert.equal(restore([{...web, key: {kind: 'address', family: 'ipv4', address: '198.18.0.10', port: 53, protocol: 'UDP'}}])[0], '-u 198.18.0.10:53 -s wlc -p 300 -M 255.255.255.0'.replace(/^/, '-A '))
  assert.match(restore([{...web, key: {kind: 'address', family: 'ipv4', address: '198.18.0.10', port: 9, protocol: 'SCTP'}}])[0]!, /^-A --sctp-service 198\.18\.0\.10:9 /)
  assert.deepEqual(restore([{...web, algo: 'rr', persistenceTimeoutS: 0, key: {kind: 'fwmark', family: 'ipv4', mark: 5}, destinations: [{address: '198.18.1.1', port: 0, weight: 1}]}]), [
    '-A -f 5 -s rr', '-a -f 5 -r 198.18.1.1:0 -m -w 1',
  ])
  assert.deepEqual(restore([{...web, persistencePrefix: 64, key: {kind: 'address', family: 'ipv6', address: 'fd00:0::10', port: 443, protocol: 'TCP'}, destinations: [{address: 'fd00::1:1', port: 443, weight: 1}]}]), [
    '-A -t [fd00::10]:443 -s wlc -p 300 -M 64', '-a -t [fd00::10]:443 -r [fd00::1:1]:443 -m -w 1',
  ])
})

test('IPVS: reconcile from `ipvsadm -S -n` output touches only what differs', () => {
  const saved = [
    '-A -t 198.18.0.10:80 -s wlc -p 300 -M 255.255.255.0',
    '-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 3',
    '-a -t 198.18.0.10:80 -r 198.18.1.2:80 -m -w 0',
    '-A -u 198.18.0.11:53 -s rr',
    '-a -u 198.18.0.11:53 -r 198.18.1.9:53 -m -w 1',
  ].join('\n')
  const next: VirtualService = {...web, algo: 'wrr', destinations: [{address: '198.18.1.1', port: 80, weight: 3}, {address: '198.18.1.3', port: 80, weight: 1}]}
  assert.deepEqual(restore([web], saved.split('\n').slice(0, 3).join('\n')), [], 'same state, no commands')
  assert.deepEqual(restore([next], saved), [
    '-E -t 198.18.0.10:80 -s wrr -p 300 -M 255.255.255.0',
    '-a -t 198.18.0.10:80 -r 198.18.1.3:80 -m -w 1',
    '-d -t 198.18.0.10:80 -r 198.18.1.2:80',
    '-D -u 198.18.0.11:53',
  ])
  // ipvsadm prints the default /32 granularity; it is not a change.
  assert.deepEqual(restore([{...web, persistencePrefix: 32}], '-A -t 198.18.0.10:80 -s wlc -p 300 -M 255.255.255.255\n-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 3\n-a -t 198.18.0.10:80 -r 198.18.1.2:80 -m -w 0'), [])
})

test('IPVS backend: runs ipvsadm -R with the diff and never deletes services it did not program', async () => {
  const calls: Array<[string, string[], string | undefined]> = []
  let kernel = '-A -t 198.18.0.99:22 -s rr\n'
  const b = new IpvsBackend(async (file, args, input) => {
    calls.push([file, [...args], input])
    return args[0] === '-S' ? kernel : ''
  })
  const r = await b.reconcile([web])
  assert.equal(r.changes, 3)
  assert.deepEqual(calls.map((c) => c[1].join(' ')), ['-S -n', '-R'])
  assert.ok(!calls[1]![2]!.includes('198.18.0.99'), 'an operator-made service is left alone')
  kernel += calls[1]![2]!
  calls.length = 0
  await b.clear()
  assert.deepEqual(calls, [['ipvsadm', ['-R'], '-D -t 198.18.0.10:80\n']])
})

test('IPVS against the kernel', (t) => {
  if (!existsSync('/proc/net/ip_vs')) {
    t.skip('this kernel has no IPVS (no /proc/net/ip_vs): only the ipvsadm rendering above is tested here')
    return
  }
  t.skip('a kernel with IPVS is present, but programming it from a unit test would touch the host; run the lab on such a kernel')
})
