import type {JumpHost, SshSettings} from '../model/inventory.js'
import type {SshTarget} from '../model/desired-state.js'

/** `[user@]host[:port]` -> parts. */
function parseJump(s: string): JumpHost {
  const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(s)!
  const j: JumpHost = {host: m[2]!}
  if (m[1]) j.user = m[1]
  if (m[3]) j.port = Number(m[3])
  return j
}

/** Host settings over inventory defaults. `sudo` defaults to "not root". */
export function sshTarget(name: string, address: string, defaults: SshSettings, own: SshSettings | undefined): SshTarget {
  const s: SshSettings = {...defaults, ...own}
  const user = s.user ?? 'root'
  const t: SshTarget = {
    name,
    host: s.host ?? address,
    port: s.port ?? 22,
    user,
    knownHosts: s.knownHosts ?? '~/.ssh/known_hosts',
    sudo: s.sudo ?? user !== 'root',
  }
  if (s.identityFile !== undefined) t.identityFile = s.identityFile
  if (s.agent !== undefined) t.agent = s.agent
  if (s.jumpHost !== undefined) {
    const j = typeof s.jumpHost === 'string' ? parseJump(s.jumpHost) : s.jumpHost
    const jt: SshTarget = {name: `${name} (jump host ${j.host})`, host: j.host, port: j.port ?? 22, user: j.user ?? user, knownHosts: t.knownHosts, sudo: false}
    const id = j.identityFile ?? t.identityFile
    if (id !== undefined) jt.identityFile = id
    if (t.agent !== undefined) jt.agent = t.agent
    t.jumpHost = jt
  }
  return t
}
