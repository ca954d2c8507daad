import {posix} from 'node:path'
import type {ConfigFs} from './config-fs.js'

/**
 * Shell-style glob expansion for `include`: `*`, `?`, `[...]` and `{a,b}` per path segment,
 * results sorted (as glob(3) returns them). Hidden files only match a pattern that starts
 * with a dot. Written here because Node 20 has no fs.glob and the need is this small.
 */
export async function expandGlob(pattern: string, fs: ConfigFs): Promise<string[]> {
  const results = new Set<string>()
  for (const alternative of expandBraces(pattern)) {
    for (const path of await expandOne(alternative, fs)) results.add(path)
  }
  return [...results].sort()
}

export function hasGlobMagic(text: string): boolean {
  return /[*?[{]/.test(text)
}

/** `a{b,c}d` -> [abd, acd]; nested braces allowed; an unmatched brace stays literal. */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{')
  if (open < 0) return [pattern]
  let depth = 0
  const commas: number[] = []
  for (let i = open; i < pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '{') depth++
    else if (ch === '}') {
      depth--
      if (depth === 0) {
        const head = pattern.slice(0, open)
        const tail = pattern.slice(i + 1)
        const bounds = [open, ...commas, i]
        const out: string[] = []
        for (let k = 0; k + 1 < bounds.length; k++) {
          const middle = pattern.slice(bounds[k]! + 1, bounds[k + 1])
          for (const expanded of expandBraces(head + middle + tail)) out.push(expanded)
        }
        return out
      }
    } else if (ch === ',' && depth === 1) commas.push(i)
  }
  return [pattern]
}

function segmentRegExp(segment: string): RegExp {
  let re = ''
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!
    if (ch === '*') re += '[^/]*'
    else if (ch === '?') re += '[^/]'
    else if (ch === '[') {
      const close = segment.indexOf(']', i + 2)
      if (close < 0) {
        re += '\\['
        continue
      }
      let body = segment.slice(i + 1, close)
      if (body.startsWith('!')) body = '^' + body.slice(1)
      re += '[' + body.replace(/\\/g, '\\\\') + ']'
      i = close
    } else re += ch.replace(/[.+^${}()|\\\]]/g, '\\$&')
  }
  return new RegExp('^' + re + '$')
}

async function expandOne(pattern: string, fs: ConfigFs): Promise<string[]> {
  const absolute = pattern.startsWith('/')
  const segments = pattern.split('/').filter((s) => s !== '')
  let bases = [absolute ? '/' : '.']
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1
    const next: string[] = []
    for (const base of bases) {
      if (!hasGlobMagic(segment)) {
        next.push(posix.join(base, segment))
        continue
      }
      let names: string[]
      try {
        names = await fs.readdir(base)
      } catch {
        continue
      }
      const re = segmentRegExp(segment)
      for (const name of names) {
        if (name.startsWith('.') && !segment.startsWith('.')) continue
        if (re.test(name)) next.push(posix.join(base, name))
      }
    }
    bases = last ? next : next
  }
  // Literal segments were not checked on the way: keep only what exists as a file.
  const existing: string[] = []
  for (const path of bases) {
    if (await fs.isDirectory(path)) continue
    try {
      await fs.readFile(path)
      existing.push(path)
    } catch {
      // missing: the caller reports an include that matched nothing
    }
  }
  return existing
}
