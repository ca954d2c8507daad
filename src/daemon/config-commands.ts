/**
 * What `kaopsd -t` and `kaopsd -d` do with a configuration file.
 *
 * STUB: both answer "not implemented" until the keepalived.conf parser in src/daemon/config/
 * lands; its owner replaces the two bodies below (keeping the signatures, which the command
 * line in cli.ts relies on). Nothing else in the command line needs to change.
 */

export interface ConfigCheckResult {
  /** true when keepalived 2.2's `-t` would also accept the file. */
  ok: boolean
  /** One line each, naming file:line, in keepalived's wording where there is one. */
  messages: string[]
}

export interface ConfigDump {
  ok: boolean
  /** The dump, ready to print (text, or JSON when asked). */
  output: string
  messages: string[]
}

export interface ConfigReadOptions {
  /** keepalived's -i: the id @id / @^id lines are matched against. */
  configId?: string
}

export const NOT_IMPLEMENTED = 'not implemented yet: the keepalived.conf parser (src/daemon/config/) has not landed'

export async function checkConfigFile(path: string, _opts: ConfigReadOptions = {}): Promise<ConfigCheckResult> {
  return {ok: false, messages: [`${path}: config test ${NOT_IMPLEMENTED}`]}
}

export async function dumpConfig(path: string, _opts: ConfigReadOptions & {json: boolean}): Promise<ConfigDump> {
  return {ok: false, output: '', messages: [`${path}: configuration dump ${NOT_IMPLEMENTED}`]}
}
