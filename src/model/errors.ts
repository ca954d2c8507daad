import {ExitCode} from './exit-codes.js'

/** Where an error points, when it points somewhere: an inventory line, a host. */
export interface ErrorPlace {
  file?: string
  /** 1-based. */
  line?: number
  /** 1-based. */
  column?: number
  host?: string
}

/** One of several things wrong (an inventory's problems, the hosts that failed), placed when known. */
export interface ErrorDetail extends ErrorPlace {
  /** Key path in the file, e.g. `vips[0].vrid`. */
  path?: string
  message: string
}

/**
 * An error meant for an operator: one clear line, what to do about it, and the exit code.
 * Library code throws it; commands turn it into `this.error(message, {exit, suggestions})`.
 * `place` and `details` repeat, for `--json` readers, what the message already says in words;
 * like the message they never hold a secret.
 */
export class KaopsError extends Error {
  readonly exit: number
  readonly suggestions: string[]
  readonly place: ErrorPlace
  readonly details: ErrorDetail[]

  constructor(
    message: string,
    opts: {exit?: number; suggestions?: string[]; cause?: unknown; place?: ErrorPlace; details?: ErrorDetail[]} = {},
  ) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = 'KaopsError'
    this.exit = opts.exit ?? ExitCode.error
    this.suggestions = opts.suggestions ?? []
    this.place = opts.place ?? {}
    this.details = opts.details ?? []
  }
}
