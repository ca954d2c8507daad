import {execFile} from 'node:child_process'

export interface CommandResult {
  stdout: string
  stderr: string
}

/**
 * Runs a program without a shell (arguments are never re-parsed), with a timeout. The one door
 * through which kaopsd's OS adapters call `ip`, `nft` and friends, so tests can see every call.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  opts: {input?: string; timeoutMs?: number} = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args as string[],
      {timeout: opts.timeoutMs ?? 10_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8'},
      (err, stdout, stderr) => {
        if (err) {
          const detail = stderr.trim() || err.message
          reject(new Error(`${file} ${args.join(' ')}: ${detail}`, {cause: err}))
          return
        }
        resolve({stdout, stderr})
      },
    )
    if (opts.input !== undefined) child.stdin?.end(opts.input)
  })
}
