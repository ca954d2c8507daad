// use_vmac, the pure half: the virtual MAC, the `ip link` arguments, the sysctls, whether an
// existing link can be kept, and how a vrrp_instance maps to a VmacSpec.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {isWantedVmac, vmacAddress, vmacCreateArgs, vmacSysctls, VmacError, type VmacSpec} from '../../src/daemon/os/vmac.js'
import {instanceSpec, InstanceSpecError} from '../../src/daemon/core/instance-spec.js'
import {parseConfigText} from '../../src/daemon/config/index.js'

const spec: VmacSpec = {name: 'vrrp.51', parent: 'eth0', family: 4, vrid: 51, xmitBase: false}

test('virtual MAC is 00:00:5e:00:01:VRID (IPv4) and 00:00:5e:00:02:VRID (IPv6), in hex', () => {
  assert.equal(vmacAddress(51, 4), '00:00:5e:00:01:33')
  assert.equal(vmacAddress(1, 6), '00:00:5e:00:02:01')
  assert.equal(vmacAddress(255, 4), '00:00:5e:00:01:ff')
  assert.throws(() => vmacAddress(0, 4), VmacError)
  assert.throws(() => vmacAddress(256, 4), VmacError)
})

test('the macvlan is created in private mode on the parent with the virtual MAC', () => {
  assert.deepEqual(vmacCreateArgs(spec), ['link', 'add', 'link', 'eth0', 'name', 'vrrp.51', 'address', '00:00:5e:00:01:33', 'type', 'macvlan', 'mode', 'private'])
})

test('sysctls: the vmac answers ARP only for its own addresses, the parent never for the VIP', () => {
  const s = new Map(vmacSysctls(spec).map((x) => [x.path, x.value]))
  assert.equal(s.get('ipv4/conf/vrrp.51/arp_ignore'), '1')
  assert.equal(s.get('ipv4/conf/vrrp.51/rp_filter'), '0')
  assert.equal(s.get('ipv4/conf/vrrp.51/accept_local'), '1')
  assert.equal(s.get('ipv4/conf/eth0/arp_ignore'), '1')
  assert.equal(s.get('ipv4/conf/eth0/arp_filter'), '1')
  assert.equal(s.get('ipv4/conf/eth0/arp_announce'), '2')
})

test('an existing link is kept only when it is that exact vmac', () => {
  const good = {ifname: 'vrrp.51', link: 'eth0', address: '00:00:5E:00:01:33', linkinfo: {info_kind: 'macvlan', info_data: {mode: 'private'}}}
  assert.equal(isWantedVmac(good, spec), true)
  assert.equal(isWantedVmac({...good, link: 'eth1'}, spec), false)
  assert.equal(isWantedVmac({...good, address: '00:00:5e:00:01:34'}, spec), false)
  assert.equal(isWantedVmac({...good, linkinfo: {info_kind: 'macvlan', info_data: {mode: 'bridge'}}}, spec), false)
  assert.equal(isWantedVmac({...good, linkinfo: {info_kind: 'veth'}}, spec), false)
})

const facts = {primaryAddress: (dev: string, family: 4 | 6) => (dev === 'eth0' ? (family === 4 ? '198.18.44.11' : 'fe80::1') : undefined)}

async function inst(body: string) {
  const {config} = await parseConfigText(`vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n${body}\n virtual_ipaddress {\n  198.18.44.100/24\n }\n}\n`, '/k.conf')
  return instanceSpec(config.vrrpInstances[0]!, config.globalDefs, facts)
}

test('use_vmac: VIPs and the socket go on vrrp.<VRID>, adverts leave from it, the source address is the parent\'s', async () => {
  const s = await inst(' use_vmac')
  assert.equal(s.interfaceName, 'vrrp.51')
  assert.equal(s.xmitInterface, 'vrrp.51')
  assert.deepEqual(s.vmac, {name: 'vrrp.51', parent: 'eth0', family: 4, vrid: 51, xmitBase: false})
  assert.equal(s.addresses.get('198.18.44.100')?.device, 'vrrp.51')
  assert.equal(s.router.primaryAddress, '198.18.44.11')
})

test('use_vmac NAME and vmac_xmit_base: named vmac, adverts from the parent', async () => {
  const s = await inst(' use_vmac vip51\n vmac_xmit_base')
  assert.equal(s.interfaceName, 'vip51')
  assert.equal(s.xmitInterface, 'eth0')
  assert.equal(s.vmac?.xmitBase, true)
})

test('use_vmac with unicast peers: adverts are sent and received on the parent, as vmac_xmit_base; the parser says so', async () => {
  const body = ' use_vmac\n unicast_src_ip 198.18.44.11\n unicast_peer {\n  198.18.44.12\n }'
  const s = await inst(body)
  assert.equal(s.interfaceName, 'vrrp.51', 'the VIPs still live on the vmac')
  assert.equal(s.addresses.get('198.18.44.100')?.device, 'vrrp.51')
  assert.equal(s.xmitInterface, 'eth0')
  assert.equal(s.vmac?.xmitBase, true)
  const text = `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n${body}\n virtual_ipaddress {\n  198.18.44.100/24\n }\n}\n`
  const {diagnostics} = await parseConfigText(text, '/k.conf')
  const warnings = diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message)
  assert.ok(warnings.some((m) => /use_vmac with unicast_peer .* vmac_xmit_base/.test(m)), warnings.join('\n'))
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), [])
  // Said explicitly, there is nothing to warn about.
  const explicit = await parseConfigText(text.replace(' use_vmac\n', ' use_vmac\n vmac_xmit_base\n'), '/k.conf')
  assert.ok(!explicit.diagnostics.some((d) => /vmac_xmit_base/.test(d.message)))
})

test('without use_vmac there is no vmac and adverts leave from the interface', async () => {
  const s = await inst('')
  assert.equal(s.vmac, undefined)
  assert.equal(s.xmitInterface, 'eth0')
  assert.ok(InstanceSpecError)
})
