// The lab's pure parts: reading an inventory's hosts and `lab:` section with file:line errors,
// the base-image stamp, known_hosts text, nspawn arguments and debootstrap error lines.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {KaopsError} from '../../src/model/errors.js'
import {ExitCode} from '../../src/model/exit-codes.js'
import {parseLabSpec} from '../../src/lab/lab-spec.js'
import {baseStamp, debootstrapError, stampHash} from '../../src/lab/base-image.js'
import {knownHostsText} from '../../src/lab/ssh-keys.js'
import {nspawnArgs} from '../../src/lab/container.js'

const LAB = readFileSync('inventories/lab.yaml', 'utf8')

function errorOf(text: string): KaopsError {
  try {
    parseLabSpec(text, 'lab.yaml')
  } catch (error) {
    assert.ok(error instanceof KaopsError, String(error))
    return error
  }
  assert.fail('expected a KaopsError')
}

test('inventories/lab.yaml: five hosts with roles, addresses and the lab section', () => {
  const spec = parseLabSpec(LAB, 'inventories/lab.yaml')
  assert.deepEqual(
    spec.hosts.map((h) => [h.name, h.roles.join(','), h.cidr, h.interface]),
    [
      ['dir1', 'director', '198.18.0.11/24', 'eth0'],
      ['dir2', 'director', '198.18.0.12/24', 'eth0'],
      ['web1', 'real-server', '198.18.0.21/24', 'eth0'],
      ['web2', 'real-server', '198.18.0.22/24', 'eth0'],
      ['client', 'probe', '198.18.0.31/24', 'eth0'],
    ],
  )
  assert.equal(spec.bridge, 'kaops-lab0')
  assert.equal(spec.hostAddress, '198.18.0.1')
  assert.equal(spec.suite, 'bookworm')
  assert.equal(spec.mirror, 'http://deb.debian.org/debian')
  assert.ok(spec.packages.includes('keepalived'))
  assert.match(spec.ssh.identityFile, /^\/.*\.cache\/kaops\/lab\/id_ed25519$/)
})

test('bad input names file:line', () => {
  const outside = errorOf(LAB.replace('address: 198.18.0.12/24', 'address: 10.0.0.12/24'))
  assert.match(outside.message, /^lab\.yaml:\d+: host dir2: address 10\.0\.0\.12\/24 is outside 198\.18\.0\.0\/15/)
  const line = Number(/^lab\.yaml:(\d+)/.exec(outside.message)![1])
  assert.match(LAB.split('\n')[line - 1]!, /dir2|198\.18\.0\.12/)

  assert.match(errorOf(LAB.replace('198.18.0.22/24', '198.18.0.21/24')).message, /host web2: address 198\.18\.0\.21 is already host web1's/)
  assert.match(errorOf(LAB.replace('198.18.0.31/24', '198.18.1.31/24')).message, /not on the lab bridge's subnet/)
  assert.match(errorOf(LAB.replace('name: web1', 'name: Web_1')).message, /host name "Web_1" must match/)
  assert.match(errorOf(LAB.replace(/\nlab:[\s\S]*$/, '\n')).message, /the `lab:` section .* is missing/)
  assert.match(errorOf(LAB.replace('user: root', 'user: admin')).message, /only accept root/)
  assert.match(errorOf(`${LAB}\n  bad: [\n`).message, /^lab\.yaml(:\d+)?: invalid YAML/)
  assert.equal(errorOf(LAB.replace('bridge: kaops-lab0', 'bridge: a-name-far-too-long')).exit, ExitCode.error)
})

test('the base image stamp changes with packages, not with their order', () => {
  const a = baseStamp({suite: 'bookworm', mirror: 'http://m', packages: ['curl', 'nftables']})
  const b = baseStamp({suite: 'bookworm', mirror: 'http://m', packages: ['nftables', 'curl']})
  const c = baseStamp({suite: 'bookworm', mirror: 'http://m', packages: ['curl']})
  assert.ok(a.packages.includes('openssh-server') && a.packages.includes('systemd'))
  assert.equal(stampHash(a), stampHash(b))
  assert.notEqual(stampHash(a), stampHash(c))
  assert.match(stampHash(a), /^bookworm-[0-9a-f]{12}$/)
})

test('known_hosts: one line per address with the key only', () => {
  const text = knownHostsText([
    {name: 'web1', address: '198.18.0.21', hostKey: 'ssh-ed25519 AAAAB root@web1\n'},
    {name: 'dir1', address: '198.18.0.11', hostKey: 'ssh-ed25519 AAAAA root@dir1'},
  ])
  assert.deepEqual(text.split('\n').filter((l) => !l.startsWith('#')), ['198.18.0.11 ssh-ed25519 AAAAA', '198.18.0.21 ssh-ed25519 AAAAB', ''])
})

test('nspawn boots systemd in the host netns, unregistered, with raw-socket capabilities', () => {
  const args = nspawnArgs({machine: 'kaops-dir1', hostname: 'dir1', root: '/r', netnsPath: '/run/netns/kaops-dir1', logFile: '/l'})
  for (const a of ['--boot', '--register=no', '--network-namespace-path=/run/netns/kaops-dir1', '--machine=kaops-dir1', '--directory=/r']) assert.ok(args.includes(a), a)
  assert.ok(args.some((a) => a.startsWith('--capability=') && a.includes('CAP_NET_RAW')))
})

test('debootstrap failures become one line with the right exit code', () => {
  const spec = {suite: 'bookworm', mirror: 'http://127.0.0.1:9/debian'}
  const unreachable = debootstrapError(spec, 'I: Retrieving InRelease\nE: Failed getting release file http://127.0.0.1:9/debian/dists/bookworm/Release', 1)
  assert.match(unreachable.message, /cannot download Debian bookworm from .*mirror unreachable/)
  assert.equal(unreachable.exit, ExitCode.environment)
  const missing = debootstrapError(spec, 'E: Couldn\'t find these debs: no-such-pkg', 1)
  assert.match(missing.message, /has no package no-such-pkg/)
  assert.equal(missing.exit, ExitCode.error)
  assert.match(debootstrapError(spec, 'tar: ./usr/bin/x: No space left on device', 1).message, /no space left/)
})
