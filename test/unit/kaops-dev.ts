// `kaops ARGS` through bin/dev.js (the TypeScript sources, no build), as the command tests run it.
import {spawnSync, type SpawnSyncReturns} from 'node:child_process'
import {join} from 'node:path'

export const ROOT = join(import.meta.dirname, '..', '..')

/** Runs kaops from the repository root without colours; extra environment variables in env. */
export function kaops(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'dev.js'), ...args], {cwd: ROOT, encoding: 'utf8', env: {...process.env, NO_COLOR: '1', ...env}, timeout: 60_000})
}
