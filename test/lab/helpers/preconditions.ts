// What a lab test needs before it can run, as one skip reason (or undefined when it can run).
import {spawnSync} from 'node:child_process'

/** Not root (rootFor says what root is needed for), or the first command not on PATH. */
export function whyNotHere(rootFor: string, commands: readonly string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return `needs root (${rootFor})`
  for (const cmd of commands) {
    // The name is an argument of the shell, never part of its script.
    if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], {stdio: 'ignore'}).status !== 0) return `${cmd} missing (scripts/install-deps.sh installs it)`
  }
  return undefined
}
