import {ConfigHasher} from '../../model/config-hash.js'
import {posix} from 'node:path'
import type {Diagnostic} from '../../model/keepalived-config.js'
import type {ConfigFs} from './config-fs.js'
import {expandGlob, hasGlobMagic} from './glob.js'

/**
 * Stage 1 of parsing: turn files into logical lines. Strips comments, follows `include`
 * (globs relative to the including file), applies `@id` / `@^id` conditional lines and
 * `$NAME=value` parameters (single and multi-line, expanded recursively). Each line keeps
 * the file:line it came from, so every later message can name it.
 */
export interface LogicalLine {
  text: string
  file: string
  line: number
}

export interface ReadOptions {
  /** keepalived's -i / --config-id; default: the short host name. */
  configId: string
  fs: ConfigFs
  /** Seed for ${_RANDOM}; tests pass a fixed function. */
  random?: () => number
}

export interface ReadResult {
  lines: LogicalLine[]
  files: string[]
  /** configHash over exactly the bytes parsed (see src/model/config-hash.ts). */
  contentHash: string
  diagnostics: Diagnostic[]
}

const INCLUDE_KEYWORDS = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea'])
const MAX_INCLUDE_DEPTH = 32
const MAX_EXPANSIONS = 64

/** Remove a `#` or `!` comment that is outside quotes; keeps the rest as written. */
export function stripComment(text: string): string {
  let quote: string | undefined
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (ch === '\\' && quote) {
      i++
      continue
    }
    if (quote) {
      if (ch === quote) quote = undefined
    } else if (ch === '"' || ch === "'") quote = ch
    else if (ch === '#' || ch === '!') return text.slice(0, i)
  }
  return text
}

interface Definition {
  value: string
}

class Reader {
  readonly lines: LogicalLine[] = []
  readonly files: string[] = []
  readonly hasher = new ConfigHasher()
  readonly diagnostics: Diagnostic[] = []
  private readonly params = new Map<string, Definition>()
  private readonly stack: string[] = []

  constructor(private readonly opts: ReadOptions) {}

  private error(file: string, line: number, message: string): void {
    this.diagnostics.push({severity: 'error', file, line, message})
  }

  private warning(file: string, line: number, message: string): void {
    this.diagnostics.push({severity: 'warning', file, line, message})
  }

  async readFile(path: string, from?: LogicalLine): Promise<void> {
    if (this.stack.includes(path)) {
      this.error(from?.file ?? path, from?.line ?? 0, `include loop: '${path}' is already being read`)
      return
    }
    if (this.stack.length >= MAX_INCLUDE_DEPTH) {
      this.error(from?.file ?? path, from?.line ?? 0, `includes nested deeper than ${MAX_INCLUDE_DEPTH} levels at '${path}'`)
      return
    }
    let text: string
    try {
      text = await this.opts.fs.readFile(path)
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      this.error(from?.file ?? path, from?.line ?? 0, `cannot read configuration file '${path}' (${reason})`)
      return
    }
    this.files.push(path)
    this.hasher.add(path, text)
    this.stack.push(path)
    const physical = text.split(/\r?\n/).map((raw, index) => ({text: stripComment(raw), file: path, line: index + 1}))
    await this.processLines(physical, 0)
    this.stack.pop()
  }

  /** Handles multi-line definitions, then each line in turn. */
  private async processLines(lines: LogicalLine[], depth: number): Promise<void> {
    for (let i = 0; i < lines.length; i++) {
      const current = lines[i]!
      const text = current.text.trim()
      if (text === '') continue
      const conditioned = this.applyConditional(text)
      if (conditioned === undefined) continue
      const definition = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(conditioned)
      if (definition) {
        const name = definition[1]!
        let value = definition[2]!.trim()
        if (value.endsWith('\\')) {
          // Multi-line: every following line that ends in '\' continues the value.
          const parts: string[] = []
          const first = value.slice(0, -1).trim()
          if (first !== '') parts.push(first)
          while (i + 1 < lines.length) {
            i++
            const next = lines[i]!.text.trimEnd()
            if (next.endsWith('\\')) parts.push(next.slice(0, -1))
            else {
              parts.push(next)
              break
            }
          }
          value = parts.join('\n')
        }
        this.params.set(name, {value})
        continue
      }
      const expanded = this.expand(conditioned, current)
      if (expanded !== conditioned) {
        if (depth >= MAX_EXPANSIONS) {
          this.error(current.file, current.line, 'parameter expansion nested too deeply (a parameter refers to itself?)')
          continue
        }
        const split = expanded.split('\n').map((t) => ({text: t, file: current.file, line: current.line}))
        await this.processLines(split, depth + 1)
        continue
      }
      const words = conditioned.split(/\s+/)
      if (INCLUDE_KEYWORDS.has(words[0]!)) {
        await this.include(words.slice(1).join(' '), current)
        continue
      }
      this.lines.push({text: conditioned, file: current.file, line: current.line})
    }
  }

  /** `@id rest` keeps rest only when id is the config id; `@^id rest` only when it is not. */
  private applyConditional(text: string): string | undefined {
    if (!text.startsWith('@')) return text
    const match = /^@(\^?)(\S*)\s*(.*)$/.exec(text)!
    const negate = match[1] === '^'
    const matches = match[2] === this.opts.configId
    return matches !== negate ? match[3]! : undefined
  }

  /** `$NAME` before whitespace or end, or `${NAME}`; undefined names stay as written. */
  private expand(text: string, at: LogicalLine): string {
    let current = text
    for (let round = 0; round < MAX_EXPANSIONS; round++) {
      const next = current.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)((?:\s+\d+){0,2})\s*\}|\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/g,
        (whole, braced: string | undefined, args: string | undefined, bare: string | undefined) => {
          const name = (braced ?? bare)!
          const builtin = this.builtin(name, (args ?? '').trim(), at)
          if (builtin !== undefined) return builtin
          return this.params.get(name)?.value ?? whole
        },
      )
      if (next === current) return current
      current = next
    }
    this.error(at.file, at.line, 'parameter expansion does not terminate (a parameter refers to itself?)')
    return current
  }

  private builtin(name: string, args: string, at: LogicalLine): string | undefined {
    switch (name) {
      case '_PWD':
        return posix.dirname(at.file)
      case '_INSTANCE':
        return this.opts.configId
      case '_HASH':
        return '#'
      case '_BANG':
        return '!'
      case '_RANDOM': {
        const [min = 0, max = 32767] = args === '' ? [] : args.split(/\s+/).map(Number)
        const random = this.opts.random ?? Math.random
        return String(min + Math.floor(random() * (max - min + 1)))
      }
      default:
        return undefined
    }
  }

  private async include(pattern: string, at: LogicalLine): Promise<void> {
    const unquoted = pattern.replace(/^(["'])(.*)\1$/, '$2').trim()
    if (unquoted === '') {
      this.error(at.file, at.line, "include needs a file name or a glob pattern")
      return
    }
    const absolute = posix.isAbsolute(unquoted) ? unquoted : posix.join(posix.dirname(at.file), unquoted)
    const paths = hasGlobMagic(absolute)
      ? await expandGlob(absolute, this.opts.fs)
      : (await this.opts.fs.readFile(absolute).then(() => true, () => false))
        ? [absolute]
        : []
    if (paths.length === 0) {
      // keepalived 2.2 logs this and carries on; so do we, but say so.
      this.warning(at.file, at.line, `include '${unquoted}' matched no file`)
      return
    }
    for (const path of paths) await this.readFile(path, at)
  }
}

export async function readConfigLines(path: string, opts: ReadOptions): Promise<ReadResult> {
  const reader = new Reader(opts)
  await reader.readFile(path)
  return {lines: reader.lines, files: reader.files, contentHash: reader.hasher.digest(), diagnostics: reader.diagnostics}
}
