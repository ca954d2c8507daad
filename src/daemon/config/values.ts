import {isIP} from 'node:net'
import type {AddressFamily, ScriptCommand, ScriptUser, SourceLocation} from '../../model/keepalived-config.js'
import type {DiagnosticSink} from './diagnostics.js'
import type {Token} from './lexer.js'
import type {ConfigNode} from './tree.js'

/** Value parsers shared by the block parsers; each reports a bad value at its file:line. */

export function at(node: {file: string; line: number}): SourceLocation {
  return {file: node.file, line: node.line}
}

export function parseInteger(sink: DiagnosticSink, token: Token | undefined, node: ConfigNode, min: number, max: number): number | undefined {
  if (!token) {
    sink.error(node, `'${node.keyword}' needs a number (${min}..${max})`)
    return undefined
  }
  if (!/^[-+]?\d+$/.test(token.text)) {
    sink.error(token, `'${node.keyword}': '${token.text}' is not a whole number`)
    return undefined
  }
  const value = Number(token.text)
  if (value < min || value > max) {
    sink.error(token, `'${node.keyword}': ${value} is outside the range ${min}..${max}`)
    return undefined
  }
  return value
}

/**
 * A keepalived <TIMER>: seconds with an optional fraction, returned in whole milliseconds
 * (keepalived keeps microseconds; nothing in kaopsd needs finer than 1 ms).
 */
export function parseTimerMs(sink: DiagnosticSink, token: Token | undefined, node: ConfigNode, opts: {minMs?: number; maxMs?: number} = {}): number | undefined {
  if (!token) {
    sink.error(node, `'${node.keyword}' needs a time in seconds`)
    return undefined
  }
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(token.text)) {
    sink.error(token, `'${node.keyword}': '${token.text}' is not a time in seconds`)
    return undefined
  }
  const ms = Math.round(Number(token.text) * 1000)
  const min = opts.minMs ?? 0
  const max = opts.maxMs ?? 2_147_483_000
  if (ms < min || ms > max) {
    sink.error(token, `'${node.keyword}': ${token.text}s is outside the range ${min / 1000}..${max / 1000} seconds`)
    return undefined
  }
  return ms
}

const TRUE = new Set(['on', 'true', 'yes'])
const FALSE = new Set(['off', 'false', 'no'])

/** A flag keyword with an optional <BOOL> (`alpha`, `alpha on`, `smtp_alert false`). */
export function parseFlag(sink: DiagnosticSink, node: ConfigNode): boolean {
  const token = node.args[0]
  if (!token) return true
  const word = token.text.toLowerCase()
  if (TRUE.has(word)) return true
  if (FALSE.has(word)) return false
  sink.error(token, `'${node.keyword}': '${token.text}' is not one of on|off|true|false|yes|no`)
  return true
}

export function ipFamily(text: string): AddressFamily | undefined {
  const v = isIP(text)
  return v === 4 ? 4 : v === 6 ? 6 : undefined
}

export function parseAddress(sink: DiagnosticSink, token: Token | undefined, node: ConfigNode): {address: string; family: AddressFamily} | undefined {
  if (!token) {
    sink.error(node, `'${node.keyword}' needs an IP address`)
    return undefined
  }
  const family = ipFamily(token.text)
  if (!family) {
    sink.error(token, `'${node.keyword}': '${token.text}' is not a valid IP address`)
    return undefined
  }
  return {address: token.text, family}
}

/** `ADDR[/PREFIX]`: prefix defaults to the full length. */
export function parsePrefixed(text: string): {address: string; family: AddressFamily; prefixLength: number; prefixGiven: boolean} | undefined {
  const [address, prefix, extra] = text.split('/')
  if (extra !== undefined || address === undefined) return undefined
  const family = ipFamily(address)
  if (!family) return undefined
  const full = family === 4 ? 32 : 128
  if (prefix === undefined) return {address, family, prefixLength: full, prefixGiven: false}
  if (!/^\d+$/.test(prefix) || Number(prefix) > full) return undefined
  return {address, family, prefixLength: Number(prefix), prefixGiven: true}
}

export function parsePort(sink: DiagnosticSink, token: Token | undefined, node: ConfigNode): number | undefined {
  return parseInteger(sink, token, node, 0, 65535)
}

/** Splits a command line: whitespace separates, single or double quotes group. */
export function splitCommand(command: string): string[] {
  const argv: string[] = []
  let word = ''
  let inWord = false
  let quote: string | undefined
  for (const ch of command) {
    if (quote) {
      if (ch === quote) quote = undefined
      else word += ch
    } else if (ch === "'" || ch === '"') {
      quote = ch
      inWord = true
    } else if (/\s/.test(ch)) {
      if (inWord) argv.push(word)
      word = ''
      inWord = false
    } else {
      word += ch
      inWord = true
    }
  }
  if (inWord) argv.push(word)
  return argv
}

/**
 * notify_* / quorum_* / misc_path: the command is the first word (quote it to give
 * arguments), optionally followed by `user [group]`.
 */
export function parseNotifyCommand(sink: DiagnosticSink, node: ConfigNode): ScriptCommand | undefined {
  const [command, user, group, ...extra] = node.args
  if (!command || command.text.trim() === '') {
    sink.error(node, `'${node.keyword}' needs a command`)
    return undefined
  }
  if (extra.length > 0) sink.error(extra[0]!, `'${node.keyword}': unexpected '${extra[0]!.text}' (quote a command that has arguments)`)
  const result: ScriptCommand = {command: command.text, argv: splitCommand(command.text), source: at(node)}
  if (user) result.user = group ? {user: user.text, group: group.text} : {user: user.text}
  return result
}

/** vrrp_script's `script`: every word of the line is part of the command. */
export function parseWholeLineCommand(sink: DiagnosticSink, node: ConfigNode): ScriptCommand | undefined {
  if (node.args.length === 0) {
    sink.error(node, `'${node.keyword}' needs a command`)
    return undefined
  }
  const command = node.args.map((t) => (t.quoted && node.args.length > 1 ? `'${t.text}'` : t.text)).join(' ')
  return {command, argv: splitCommand(command), source: at(node)}
}

export function parseUser(sink: DiagnosticSink, node: ConfigNode): ScriptUser | undefined {
  const [user, group] = node.args
  if (!user) {
    sink.error(node, `'${node.keyword}' needs a user name`)
    return undefined
  }
  return group ? {user: user.text, group: group.text} : {user: user.text}
}

/** `weight N [reverse]` helper for track_* entries. */
export function parseWeightArgs(sink: DiagnosticSink, node: ConfigNode, args: Token[], min: number, max: number): {weight?: number; reverse: boolean} {
  let weight: number | undefined
  let reverse = false
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!.text
    if (word === 'weight') {
      weight = parseInteger(sink, args[i + 1], node, min, max)
      i++
    } else if (word === 'reverse') reverse = true
    else sink.error(args[i]!, `'${node.keyword}': unexpected '${word}' (expected 'weight N' or 'reverse')`)
  }
  return weight === undefined ? {reverse} : {weight, reverse}
}

export function expectArgs(sink: DiagnosticSink, node: ConfigNode, min: number, max: number): boolean {
  if (node.args.length < min) {
    sink.error(node, `'${node.keyword}' needs ${min === max ? min : `at least ${min}`} value${min === 1 ? '' : 's'}`)
    return false
  }
  if (node.args.length > max) {
    sink.error(node.args[max]!, `'${node.keyword}': unexpected '${node.args[max]!.text}'`)
  }
  return true
}

export function expectNoBlock(sink: DiagnosticSink, node: ConfigNode): void {
  if (node.children !== undefined) sink.error(node, `'${node.keyword}' does not take a { } block`)
}

export function expectBlock(sink: DiagnosticSink, node: ConfigNode): ConfigNode[] {
  if (node.children === undefined) {
    sink.error(node, `'${node.keyword}' needs a { } block`)
    return []
  }
  return node.children
}
