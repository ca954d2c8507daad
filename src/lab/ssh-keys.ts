import {existsSync} from 'node:fs'
import {chmod, mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'
import {run} from './runner.js'

/**
 * The lab's SSH trust: one client key pair (ssh.identityFile) kept across `up`s, one ed25519
 * host key per host, and a known_hosts file (ssh.knownHosts) naming each host's address and
 * key, so strict host-key checking works with no prompt.
 */

/** Makes an ed25519 key pair at `file` unless one is there; returns the public key line. */
export async function ensureKeyPair(file: string, comment: string): Promise<string> {
  if (!existsSync(file) || !existsSync(`${file}.pub`)) {
    await mkdir(dirname(file), {recursive: true, mode: 0o700})
    const tmp = `${file}.${process.pid}.new`
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', tmp])
    await rename(`${tmp}.pub`, `${file}.pub`)
    await rename(tmp, file)
  }
  await chmod(file, 0o600)
  return (await readFile(`${file}.pub`, 'utf8')).trim()
}

/** `type base64` of a public key line (the comment dropped). */
export function keyOnly(pubLine: string): string {
  return pubLine.trim().split(/\s+/).slice(0, 2).join(' ')
}

/** Pure: the lab's known_hosts text, one line per host address. */
export function knownHostsText(hosts: Array<{name: string; address: string; hostKey: string}>): string {
  const lines = ['# kaops lab: written by `kaops lab up`, rewritten each time; host keys are per lab host.']
  for (const h of [...hosts].sort((a, b) => a.name.localeCompare(b.name))) lines.push(`${h.address} ${keyOnly(h.hostKey)}`)
  return `${lines.join('\n')}\n`
}

export async function writeKnownHosts(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), {recursive: true, mode: 0o700})
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, text, {mode: 0o644})
  await rename(tmp, file)
}
