import type {ConfigNode} from '../daemon/config/tree.js'
import type {Token} from '../daemon/config/lexer.js'

/**
 * A parsed keepalived.conf statement back as text, for the inventory's raw escape hatch: what
 * kaops cannot model is carried over verbatim in meaning (comments and layout are not kept).
 */

function word(t: Token): string {
  // Re-quote what the lexer unquoted, so the raw line reads back as the same words.
  if (t.quoted || /[\s{}#!"']/.test(t.text) || t.text === '') return `"${t.text.replace(/(["\\])/g, '\\$1')}"`
  return t.text
}

export function nodeHead(n: ConfigNode): string {
  return [n.keyword, ...n.args.map(word)].join(' ')
}

/** The statement and its block, one string per line, nested blocks indented by four spaces. */
export function nodeLines(n: ConfigNode, indent = ''): string[] {
  const head = nodeHead(n)
  if (n.children === undefined) return [indent + head]
  if (n.children.length === 0) return [`${indent}${head} { }`]
  return [`${indent}${head} {`, ...n.children.flatMap((c) => nodeLines(c, `${indent}    `)), `${indent}}`]
}

export const where = (n: Pick<ConfigNode, 'file' | 'line'>): string => `${n.file}:${n.line}`
