/**
 * The few vrrp_instance fields peers must agree on, read from a director's keepalived.conf as
 * found on the host. Deliberately small and tolerant (not the daemon's parser: the CLI and the
 * daemon share only the configuration model): verify needs five fields, not a validator.
 * The auth secret never leaves this module in clear: only a short sha256 prefix does.
 */
import {createHash} from 'node:crypto'

export interface InstanceFields {
  name: string
  vrid?: number
  advertInt?: number
  authType?: string
  /** "sha256:<12 hex>" of auth_pass, so two values can be compared without showing them. */
  authHash?: string
  vips: string[]
  priority?: number
}

/** Tokens with comments dropped; braces are tokens of their own. */
function tokens(text: string): string[] {
  const out: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#!].*$/, '')
    for (const t of line.replace(/([{}])/g, ' $1 ').split(/\s+/)) if (t !== '') out.push(t)
  }
  return out
}

export const secretHash = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex').slice(0, 12)}`

/** Every vrrp_instance in the text, in order. Pure. */
export function instanceFields(text: string): InstanceFields[] {
  const t = tokens(text)
  const out: InstanceFields[] = []
  for (let i = 0; i < t.length; i++) {
    if (t[i] !== 'vrrp_instance' || t[i + 2] !== '{') continue
    const inst: InstanceFields = {name: t[i + 1]!, vips: []}
    let depth = 0
    let block: string | undefined
    let j = i + 2
    for (; j < t.length; j++) {
      const w = t[j]!
      if (w === '{') {
        depth++
        if (depth === 2) block = t[j - 1]
        continue
      }
      if (w === '}') {
        depth--
        if (depth === 1) block = undefined
        if (depth === 0) break
        continue
      }
      if (depth === 1) {
        const v = t[j + 1]
        if (w === 'virtual_router_id') inst.vrid = Number(v)
        else if (w === 'advert_int') inst.advertInt = Number(v)
        else if (w === 'priority') inst.priority = Number(v)
      } else if (depth === 2 && block === 'authentication') {
        if (w === 'auth_type') inst.authType = t[j + 1]
        else if (w === 'auth_pass' && t[j + 1] !== undefined) inst.authHash = secretHash(t[j + 1]!)
        j++
      } else if (depth === 2 && block === 'virtual_ipaddress') {
        // One address per line; the words after it (dev eth0, brd X...) are not addresses.
        if (['brd', 'dev', 'label', 'scope'].includes(w)) j++
        else if (/^[0-9a-fA-F:.]+(\/\d+)?$/.test(w) && (w.includes('.') || w.includes(':'))) inst.vips.push(w)
      }
    }
    out.push(inst)
    i = j
  }
  return out
}
