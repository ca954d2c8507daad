/**
 * kaopsd's entry point: the file scripts/build-kaopsd.mjs bundles (CommonJS) into the single
 * executable. Kept to wiring; the command line is cli.ts, the parsing cli-args.ts.
 */
import {runKaopsd} from './cli.js'

runKaopsd(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then(
  // exitCode, not exit(): pending stdout writes to a pipe are flushed before the process ends.
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`kaopsd: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exitCode = 1
  },
)
