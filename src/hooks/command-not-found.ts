import type {Hook} from '@oclif/core'
import notFound from '@oclif/plugin-not-found'
import {splitTypedCommand} from '../cli/command-words.js'

/**
 * plugin-not-found's hook (the warning, "Did you mean ...?" on a terminal only, exit 127), asked
 * about the command words alone: oclif hands it every leading word, arguments included (see
 * command-words.ts). The arguments go on to the suggested command if the operator accepts it.
 * Registered in package.json in place of the plugin, so that the plugin's hook does not run too.
 */
const hook: Hook.CommandNotFound = async function (opts) {
  const visible = opts.config.commands.filter((c) => !c.hidden)
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)]
  const topics = opts.config.topics.map((t) => t.name)
  const typed = splitTypedCommand(opts.id.split(':'), opts.argv ?? [], ids, topics)
  return notFound.call(this, {...opts, ...typed})
}

export default hook
