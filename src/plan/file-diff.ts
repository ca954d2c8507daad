/** Unified diff of one managed file, with secrets redacted on both sides before diffing. */
import {createTwoFilesPatch} from 'diff'
import {redactWithTemplates} from './redact.js'

export interface FileDiffResult {
  diff: string
  /** True when the file differs only inside secret values (the redacted diff is empty). */
  secretsOnly: boolean
}

export interface Redaction {
  secrets: readonly string[]
  templates: readonly RegExp[]
}

export function fileDiff(path: string, before: string | null, after: string | null, r: Redaction): FileDiffResult {
  const a = before === null ? '' : redactWithTemplates(before, r.secrets, r.templates)
  const b = after === null ? '' : redactWithTemplates(after, r.secrets, r.templates)
  const secretsOnly = a === b && before !== after
  const diff = createTwoFilesPatch(before === null ? '/dev/null' : `a${path}`, after === null ? '/dev/null' : `b${path}`, a, b, undefined, undefined, {context: 3})
  // Drop the "===" rule createTwoFilesPatch puts under its "Index:" line.
  return {diff: diff.replace(/^=+\n/m, ''), secretsOnly}
}
