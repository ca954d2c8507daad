// Reading lab hosts from this machine: their network namespaces are ours, so `ip -n` sees them
// without SSH. Shared by the lab tests that watch where a VIP is.
import {spawn} from 'node:child_process'
import {netnsName} from '../../../src/lab/paths.js'

/** `ip -n NS ARGS...`: its stdout. */
export function ipIn(ns: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['-n', ns, ...args], {stdio: ['ignore', 'pipe', 'inherit']})
    let out = ''
    c.stdout.on('data', (d: Buffer) => (out += d.toString()))
    c.on('error', reject)
    c.on('close', () => resolve(out))
  })
}

/** The lab hosts (by name) that have `vip` on eth0 now, in the order given. */
export async function vipHolders(hosts: readonly string[], vip: string): Promise<string[]> {
  const held = await Promise.all(hosts.map(async (h) => ((await ipIn(netnsName(h), ['-4', '-o', 'addr', 'show', 'dev', 'eth0'])).includes(` ${vip}/`) ? h : '')))
  return held.filter(Boolean)
}
