import {runCommand} from './run-command.js'

/**
 * A route as keepalived's virtual_routes/static_routes describe it: the words after the
 * destination are passed to `ip route` as they are (src, via, dev, table, metric, scope ...),
 * already split into tokens by the config parser.
 */
export interface RouteSpec {
  /** e.g. "198.18.5.0/24", "default", "blackhole 198.18.6.0/24" split into words. */
  words: string[]
}

export function formatRoute(r: RouteSpec): string {
  return r.words.join(' ')
}

export async function addRoute(r: RouteSpec): Promise<void> {
  await runCommand('ip', ['route', 'replace', ...r.words])
}

export async function removeRoute(r: RouteSpec): Promise<void> {
  try {
    await runCommand('ip', ['route', 'del', ...r.words])
  } catch (err) {
    if (/No such process|not found|ESRCH/i.test(String(err))) return
    throw err
  }
}
