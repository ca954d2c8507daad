// InterfaceWatch and linkUp against a fake sysfs tree: what counts as up, and that a change is
// reported once, to every listener, within a poll period.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {InterfaceWatch, linkUp} from '../../src/daemon/core/interface-watch.js'

function fakeSysfs() {
  const root = mkdtempSync(join(tmpdir(), 'kaops-sysfs-'))
  const set = (name: string, flags: string, operstate: string) => {
    mkdirSync(join(root, name), {recursive: true})
    writeFileSync(join(root, name, 'flags'), `${flags}\n`)
    writeFileSync(join(root, name, 'operstate'), `${operstate}\n`)
  }
  return {root, set, done: () => rmSync(root, {recursive: true, force: true})}
}

test('linkUp: admin up and operstate up or unknown; anything else, or no such link, is down', () => {
  const fs = fakeSysfs()
  try {
    fs.set('eth0', '0x1003', 'up')
    fs.set('lo', '0x9', 'unknown')
    fs.set('eth1', '0x1002', 'up')
    fs.set('eth2', '0x1003', 'down')
    fs.set('eth3', '0x1003', 'lowerlayerdown')
    assert.equal(linkUp('eth0', fs.root), true)
    assert.equal(linkUp('lo', fs.root), true)
    assert.equal(linkUp('eth1', fs.root), false, 'administratively down')
    assert.equal(linkUp('eth2', fs.root), false)
    assert.equal(linkUp('eth3', fs.root), false)
    assert.equal(linkUp('nope', fs.root), false)
  } finally {
    fs.done()
  }
})

test('InterfaceWatch tells the current state at once, then each change once', async () => {
  const fs = fakeSysfs()
  const watch = new InterfaceWatch(10, fs.root)
  try {
    fs.set('eth0', '0x1003', 'up')
    const a: boolean[] = []
    const b: boolean[] = []
    await watch.watch('eth0', (up) => a.push(up))
    await watch.watch('eth0', (up) => b.push(up))
    assert.deepEqual(a, [true])
    fs.set('eth0', '0x1003', 'down')
    await new Promise((r) => setTimeout(r, 60))
    fs.set('eth0', '0x1003', 'up')
    await new Promise((r) => setTimeout(r, 60))
    assert.deepEqual(a, [true, false, true])
    assert.deepEqual(b, [true, false, true])
  } finally {
    watch.unwatchAll()
    fs.done()
  }
})
