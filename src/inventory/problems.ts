import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'

/** One thing wrong with an inventory, placed where an editor can jump to it. */
export interface Problem {
  file: string
  /** 1-based. */
  line: number
  /** 1-based. */
  column: number
  /** Key path, e.g. `vips[0].vrid`; empty for the document itself. */
  path: string
  message: string
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`
}

/** Stable order: by position, then by message, so output is the same from run to run. */
export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path) || a.message.localeCompare(b.message))
}

export function problemsError(file: string, problems: Problem[]): KaopsError {
  const n = problems.length
  const sorted = sortProblems(problems)
  const lines = sorted.map((p) => `  ${formatProblem(p)}`)
  const first = sorted[0]
  return new KaopsError(`${file}: ${n} problem${n === 1 ? '' : 's'} in the inventory:\n${lines.join('\n')}`, {
    exit: ExitCode.error,
    suggestions: ['fix them and run `kaops validate` again; nothing was contacted'],
    place: first ? {file: first.file, line: first.line, column: first.column} : {file},
    details: sorted,
  })
}

/** `['vips', 0, 'vrid']` -> `vips[0].vrid`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = ''
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out === '' ? k : `.${k}`
  return out
}
