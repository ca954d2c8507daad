import type {DaemonOptions} from './cli-args.js'

/**
 * Runs kaopsd until it is told to stop; resolves to the process exit code.
 *
 * STUB until the VRRP engine (src/daemon/vrrp/) and the checkers (src/daemon/check/) land: their
 * owners replace this body; the command line (cli.ts) calls only this function.
 */
export async function runDaemon(_options: DaemonOptions, log: (line: string) => void): Promise<number> {
  log('kaopsd: running the daemon is not implemented yet (the VRRP engine and checkers have not landed)')
  return 1
}
