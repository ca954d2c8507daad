import {ExitCode} from './exit-codes.js'

/**
 * An error meant for an operator: one clear line, what to do about it, and the exit code.
 * Library code throws it; commands turn it into `this.error(message, {exit, suggestions})`.
 */
export class KaopsError extends Error {
  readonly exit: number
  readonly suggestions: string[]

  constructor(message: string, opts: {exit?: number; suggestions?: string[]; cause?: unknown} = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = 'KaopsError'
    this.exit = opts.exit ?? ExitCode.error
    this.suggestions = opts.suggestions ?? []
  }
}
