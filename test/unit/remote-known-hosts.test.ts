import {test} from 'node:test'
import assert from 'node:assert/strict'
import {hostKeyAlgorithms, parseKnownHosts, verifyHostKey} from '../../src/remote/known-hosts.js'

// Recorded with ssh-keygen: K1 listed for dir1.lab, 198.18.0.11 and [198.18.0.12]:2222, K2 for web*.
const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIKbYojYhQWmxm4NHu7ZQhNSDbDIaCZWW7mVCO/46HxW+'
const K2 = 'AAAAC3NzaC1lZDI1NTE5AAAAIC6Xy6W+J9egHyfOLT4MGABFtPpcWk/ZjcdloF0y4JLa'
const PLAIN = `# lab hosts
dir1.lab,198.18.0.11 ssh-ed25519 ${K1}
[198.18.0.12]:2222 ssh-ed25519 ${K1}

web*,!web9 ssh-ed25519 ${K2}
`
// The same file after `ssh-keygen -H` (OpenSSH's own hashing, |1|salt|hmac-sha1).
const HASHED = `|1|T/gU4kPuN32yE36Opv7rApu2InE=|knaBUhbQjJVEQSZ+GtRH6v3tCGA= ssh-ed25519 ${K1}
|1|iq+l+4Qfy/bSQ6aVKBWTGshhgOM=|wC6Faj48RQyw/ETQpQosB7G0mTk= ssh-ed25519 ${K1}
|1|5KLgX4DyuFsiFb7him4n4xTX5zg=|k3TXbLY0yzph2Gm8PIGMgpFbcE0= ssh-ed25519 ${K1}
`
const k1 = Buffer.from(K1, 'base64')
const k2 = Buffer.from(K2, 'base64')

for (const [label, text] of [['plain', PLAIN], ['hashed', HASHED]] as const) {
  test(`${label} entries: the listed key is accepted, port 22 by name, other ports as [host]:port`, () => {
    const entries = parseKnownHosts(text, 'kh')
    assert.equal(verifyHostKey(entries, '198.18.0.11', 22, k1, 'kh').ok, true)
    assert.equal(verifyHostKey(entries, 'dir1.lab', 22, k1, 'kh').ok, true)
    assert.equal(verifyHostKey(entries, '198.18.0.12', 2222, k1, 'kh').ok, true)
    // The [host]:port entry does not cover port 22, and a bare host entry does not cover 2222.
    assert.equal(verifyHostKey(entries, '198.18.0.12', 22, k1, 'kh').ok, false)
    assert.equal(verifyHostKey(entries, '198.18.0.11', 2222, k1, 'kh').ok, false)
  })

  test(`${label} entries: a different key is a mismatch naming the host and the file:line`, () => {
    const v = verifyHostKey(parseKnownHosts(text, '/x/known_hosts'), '198.18.0.11', 22, k2, '/x/known_hosts', 'dir1')
    assert.equal(v.ok, false)
    assert.ok(!v.ok && v.reason === 'mismatch')
    assert.match(!v.ok ? v.message : '', /host key of dir1 \(198\.18\.0\.11\) does not match \/x\/known_hosts:\d/)
  })
}

test('no entry is refused, never accepted on first use', () => {
  const v = verifyHostKey(parseKnownHosts(PLAIN, 'kh'), '198.18.0.99', 22, k1, '/x/kh', 'dir9')
  assert.ok(!v.ok && v.reason === 'no-entry')
  assert.match(!v.ok ? v.message : '', /dir9 .* has no entry in \/x\/kh/)
})

test('wildcards and negation', () => {
  const entries = parseKnownHosts(PLAIN, 'kh')
  assert.equal(verifyHostKey(entries, 'web1', 22, k2, 'kh').ok, true)
  assert.equal(verifyHostKey(entries, 'web9', 22, k2, 'kh').ok, false)
})

test('@revoked wins over a matching entry; @cert-authority is not a host key', () => {
  const entries = parseKnownHosts(`${PLAIN}@revoked * ssh-ed25519 ${K1}\n@cert-authority * ssh-ed25519 ${K2}\n`, 'kh')
  const v = verifyHostKey(entries, '198.18.0.11', 22, k1, 'kh')
  assert.ok(!v.ok && v.reason === 'revoked')
  assert.equal(verifyHostKey(entries, 'other', 22, k2, 'kh').ok, false)
})

test('malformed lines name file:line', () => {
  assert.throws(() => parseKnownHosts('ok ssh-ed25519 AAAA\nbroken-line\n', '/x/kh'), /\/x\/kh:2: expected/)
  assert.throws(() => parseKnownHosts('h ssh-ed25519 not*base64\n', '/x/kh'), /\/x\/kh:1: key is not base64/)
  assert.throws(() => parseKnownHosts('@weird h ssh-ed25519 AAAA\n', '/x/kh'), /\/x\/kh:1: unknown marker/)
})

test('host key algorithms follow the listed key types', () => {
  assert.deepEqual(hostKeyAlgorithms(['ssh-ed25519', 'ssh-rsa']), ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'])
})
