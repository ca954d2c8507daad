import {KaopsError, type ErrorDetail, type ErrorPlace} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'

export const ERROR_FORMAT_VERSION = 1

/**
 * What a command that fails under `--json` prints on stdout instead of its report: the same
 * message as on stderr, the exit code the process ends with, and where the error points when
 * the error knows (file and line, host; `details` when several things are wrong).
 */
export interface ErrorDocument {
  format_version: typeof ERROR_FORMAT_VERSION
  error: ErrorPlace & {
    message: string
    exit: number
    suggestions: string[]
    details: ErrorDetail[]
  }
}

/** oclif's own errors (a bad flag, an unknown argument) carry their exit code here. */
interface OclifError {
  oclif?: {exit?: number}
  suggestions?: string[]
}

/** The exit code the process ends with for `err`, as oclif's error handler picks it. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof KaopsError) return err.exit
  return (err as OclifError | undefined)?.oclif?.exit ?? ExitCode.error
}

export function errorDocument(err: unknown): ErrorDocument {
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof KaopsError) {
    return {
      format_version: ERROR_FORMAT_VERSION,
      error: {message, exit: err.exit, suggestions: err.suggestions, ...definedPlace(err.place), details: err.details},
    }
  }
  const suggestions = (err as OclifError | undefined)?.suggestions ?? []
  return {format_version: ERROR_FORMAT_VERSION, error: {message, exit: exitCodeOf(err), suggestions, details: []}}
}

/** Only the keys that are set, so that a reader can test `has("line")`. */
function definedPlace(place: ErrorPlace): ErrorPlace {
  return Object.fromEntries(Object.entries(place).filter(([, v]) => v !== undefined)) as ErrorPlace
}
