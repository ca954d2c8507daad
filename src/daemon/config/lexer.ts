import type {LogicalLine} from './reader.js'

/**
 * Stage 2: split a logical line into words. Whitespace separates words; `"` and `'` quote
 * (the quote characters go, the spaces inside stay, and quoting may start mid-word as in
 * keepalived); inside quotes a backslash escapes like the shell. `{` and `}` are their own
 * tokens when unquoted and standing alone, or glued to the end (`name{`) / start (`}x`).
 */
export interface Token {
  text: string
  /** true when any part of the word was quoted: `{` in quotes is a plain word. */
  quoted: boolean
  file: string
  line: number
}

const ESCAPES: Record<string, string> = {a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v'}

export function tokenizeLine(line: LogicalLine): Token[] {
  const out: Token[] = []
  const text = line.text
  let i = 0
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++
    if (i >= text.length) break
    let word = ''
    let quoted = false
    let quote: string | undefined
    while (i < text.length && (quote !== undefined || !/\s/.test(text[i]!))) {
      const ch = text[i]!
      if (quote !== undefined) {
        if (ch === quote) quote = undefined
        else if (ch === '\\' && i + 1 < text.length) {
          i++
          word += unescape(text, i, (consumed) => (i += consumed))
          continue
        } else word += ch
      } else if (ch === '"' || ch === "'") {
        quote = ch
        quoted = true
      } else word += ch
      i++
    }
    pushWord(out, word, quoted, line)
  }
  return out
}

/** Reads the escape at text[i] (just after the backslash); advances through `advance`. */
function unescape(text: string, i: number, advance: (consumed: number) => void): string {
  const ch = text[i]!
  if (ESCAPES[ch] !== undefined) {
    advance(1)
    return ESCAPES[ch]!
  }
  if (/[0-7]/.test(ch)) {
    const digits = /^[0-7]{1,3}/.exec(text.slice(i))![0]
    advance(digits.length)
    return String.fromCharCode(parseInt(digits, 8))
  }
  if (ch === 'x') {
    const digits = /^[0-9a-fA-F]*/.exec(text.slice(i + 1))![0]
    advance(1 + digits.length)
    return digits === '' ? 'x' : String.fromCharCode(parseInt(digits, 16) & 0xff)
  }
  if (ch === 'c' && i + 1 < text.length) {
    advance(2)
    return String.fromCharCode(text[i + 1]!.toUpperCase().charCodeAt(0) ^ 0x40)
  }
  advance(1)
  return ch
}

function pushWord(out: Token[], word: string, quoted: boolean, line: LogicalLine): void {
  const token = (text: string, q: boolean): Token => ({text, quoted: q, file: line.file, line: line.line})
  if (quoted) {
    out.push(token(word, true))
    return
  }
  let rest = word
  while (rest.startsWith('}')) {
    out.push(token('}', false))
    rest = rest.slice(1)
  }
  if (rest === '') return
  if (rest.length > 1 && rest.endsWith('{') && !rest.includes('${')) {
    out.push(token(rest.slice(0, -1), false), token('{', false))
    return
  }
  if (rest.length > 1 && rest.endsWith('}') && !rest.includes('{')) {
    out.push(token(rest.slice(0, -1), false), token('}', false))
    return
  }
  out.push(token(rest, false))
}

export function isOpen(t: Token): boolean {
  return !t.quoted && t.text === '{'
}

export function isClose(t: Token): boolean {
  return !t.quoted && t.text === '}'
}
