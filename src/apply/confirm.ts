/** The question apply asks on a terminal before acting (never without one, nor with --yes). */
import {createInterface} from 'node:readline/promises'

export function shouldAsk(opts: {yes: boolean; json: boolean; stdinTTY: boolean; stdoutTTY: boolean}): boolean {
  return !opts.yes && !opts.json && opts.stdinTTY && opts.stdoutTTY
}

export async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    const a = (await rl.question(`${question} [y/N] `)).trim().toLowerCase()
    return a === 'y' || a === 'yes'
  } finally {
    rl.close()
  }
}
