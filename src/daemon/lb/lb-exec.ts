import {runCommand} from '../os/run-command.js'

/**
 * How a backend runs its kernel tool (`nft`, `ipvsadm`, `ip`). The daemon runs them directly;
 * the lab wraps them in `ip netns exec <ns>`. Rejects with the tool's stderr on failure.
 */
export type LbExec = (file: string, args: readonly string[], input?: string) => Promise<string>

export const localExec: LbExec = async (file, args, input) =>
  (await runCommand(file, args, input === undefined ? {} : {input})).stdout

export function netnsExec(ns: string): LbExec {
  return (file, args, input) => localExec('ip', ['netns', 'exec', ns, file, ...args], input)
}
