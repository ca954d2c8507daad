import {Command} from '@oclif/core'
import {KaopsError} from '../model/errors.js'

/**
 * The one place library errors become oclif errors: a clear line, suggestions, a documented
 * exit code. Commands extend this and stay thin.
 */
export abstract class KaopsCommand extends Command {
  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof KaopsError) {
      this.error(err.message, {exit: err.exit, suggestions: err.suggestions})
    }
    return super.catch(err)
  }
}
