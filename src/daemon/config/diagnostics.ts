import type {Diagnostic} from '../../model/keepalived-config.js'

/** Collects messages while parsing; every message is tied to a file and line. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = []

  error(at: {file: string; line: number}, message: string): void {
    this.items.push({severity: 'error', file: at.file, line: at.line, message})
  }

  warning(at: {file: string; line: number}, message: string): void {
    this.items.push({severity: 'warning', file: at.file, line: at.line, message})
  }
}

/** `file:line: error: message` (line 0 means the configuration as a whole). */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file
  return `${where}: ${d.severity}: ${d.message}`
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error')
}

/** File order first, then line, so a report reads top to bottom. */
export function sortDiagnostics(diagnostics: Diagnostic[], files: readonly string[]): Diagnostic[] {
  const rank = (f: string): number => {
    const i = files.indexOf(f)
    return i < 0 ? files.length : i
  }
  return [...diagnostics].sort((a, b) => rank(a.file) - rank(b.file) || a.line - b.line)
}
