import {Command, Errors} from '@oclif/core'
import {KaopsError} from '../model/errors.js'
import {errorDocument} from './error-json.js'

/**
 * The one place library errors become oclif errors: a clear line, suggestions, a documented
 * exit code. Under `--json` a failure also prints one JSON document on stdout (see
 * error-json.ts), so a script reading stdout always gets JSON. Commands extend this and stay thin.
 */
export abstract class KaopsCommand extends Command {
  /** Set once this command has written to stdout under --json: a second document would break readers. */
  private wroteStdout = false
  private restoreStdout: (() => void) | undefined

  protected override async init(): Promise<void> {
    await super.init()
    if (!this.jsonRequested()) return
    const stdout = process.stdout
    const write = stdout.write
    stdout.write = ((...args: Parameters<typeof write>) => {
      this.wroteStdout = true
      return write.apply(stdout, args)
    }) as typeof write
    this.restoreStdout = () => {
      stdout.write = write
    }
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    // this.exit(n): the command has reported already, only its exit code is left. (oclif's own
    // catch, under enableJsonFlag, would print the exit as an error and end with 1.)
    if (err instanceof Errors.ExitError) throw err
    // A command that failed after printing its report has said what it had to on stdout; the
    // error still goes to stderr and sets the exit code.
    if (this.jsonRequested() && !this.wroteStdout) process.stdout.write(`${JSON.stringify(errorDocument(err), null, 2)}\n`)
    if (err instanceof KaopsError) {
      this.error(err.message, {exit: err.exit, suggestions: err.suggestions})
    }
    // oclif's catch would print its own JSON in place of the message on stderr.
    if (this.jsonEnabled()) throw err
    return super.catch(err)
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.restoreStdout?.()
    this.restoreStdout = undefined
    return super.finally(err)
  }

  /**
   * `--json` on the command line of a command that has it, read from argv rather than parsed
   * flags: a flag that fails to parse must still get its error as JSON. oclif's jsonEnabled()
   * covers only commands with enableJsonFlag; the others declare a `json` flag of their own.
   */
  private jsonRequested(): boolean {
    if (this.jsonEnabled()) return true
    if (!('json' in (this.ctor.flags ?? {}))) return false
    const end = this.argv.indexOf('--')
    const at = this.argv.indexOf('--json')
    return at !== -1 && (end === -1 || at < end)
  }
}
