// Proves the rendered keepalived.conf is valid keepalived syntax: `keepalived -t` (2.2.7, from
// Debian) on every director's file of every golden inventory, each inside a network namespace of
// its own that has the interfaces and address the file names (198.18.x only; no traffic is sent).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {vipInterface, vipPriorities} from '../../src/inventory/derive.js'
import {KAOPSD_CONFIG_PATH} from '../../src/render/paths.js'
import {CASES, renderCase} from '../golden/cases.js'

const KEEPALIVED = '/usr/sbin/keepalived'

function whyNot(): string | undefined {
  if (!existsSync(KEEPALIVED)) return `${KEEPALIVED} is not installed`
  if (process.getuid?.() !== 0) return 'needs root for network namespaces'
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'ip netns is not available'
  return undefined
}

const ip = (...args: string[]) => execFileSync('ip', args, {stdio: ['ignore', 'ignore', 'pipe']})

test('keepalived -t accepts every rendered keepalived.conf', async (t) => {
  const reason = whyNot()
  if (reason) {
    t.skip(reason)
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'kaops-kat-'))
  let n = 0
  try {
    for (const [name, inventory] of CASES) {
      const {inventory: inv, hosts} = renderCase(inventory)
      for (const d of inv.directors) {
        const conf = hosts.find((h) => h.name === d.name)!.files.find((f) => f.path === KAOPSD_CONFIG_PATH)!
        const ifaces = new Set([d.interface])
        for (const v of inv.vips) {
          if (!vipPriorities(v).some(([x]) => x === d.name)) continue
          ifaces.add(vipInterface(v, d))
          for (const a of v.addresses) if (a.dev) ifaces.add(a.dev)
          for (const ti of v.trackInterfaces) ifaces.add(ti)
        }
        const ns = `kaops-kat-${process.pid}-${n++}`
        const file = join(dir, `${name}-${d.name}.conf`)
        writeFileSync(file, conf.content, {mode: 0o600})
        ip('netns', 'add', ns)
        try {
          let i = 0
          for (const ifname of ifaces) {
            // veth, because this kernel may lack the dummy module; both ends stay in the namespace.
            ip('-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', `kat${i++}`)
            ip('-n', ns, 'link', 'set', ifname, 'up')
          }
          ip('-n', ns, 'address', 'add', d.address, 'dev', d.interface)
          ip('-n', ns, 'link', 'set', 'lo', 'up')
          const r = spawnSync('ip', ['netns', 'exec', ns, KEEPALIVED, '-t', '-l', '-n', '-f', file], {encoding: 'utf8', timeout: 20_000})
          assert.equal(r.status, 0, `keepalived -t rejected ${name}/${d.name}'s keepalived.conf (exit ${r.status}):\n${r.stdout}${r.stderr}`)
        } finally {
          spawnSync('ip', ['netns', 'del', ns])
        }
      }
    }
    assert.ok(n >= 10, `checked ${n} files`)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
