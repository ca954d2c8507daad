import {Args, Flags} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {ExitCode} from '../model/exit-codes.js'
import {runReleases} from '../apply/run-apply.js'
import {inventoryModules} from '../apply/inventory-modules.js'
import {formatReleases} from '../apply/releases-list.js'

export default class Releases extends KaopsCommand {
  static override summary = 'List the releases on every host'
  static override description = 'List the releases on every host (newest first, * = current) with their times, the rollout (apply) that made each, and inventory revisions'
  static override examples = ['<%= config.bin %> releases inventories/prod.yaml', '<%= config.bin %> releases inventories/prod.yaml --json']
  static override args = {inventory: Args.string({description: 'inventory YAML', required: true})}
  static override flags = {
    json: Flags.boolean({description: 'print as JSON'}),
    host: Flags.string({description: 'only this host (repeatable)', multiple: true}),
    parallel: Flags.integer({description: 'hosts read at once', default: 10, min: 1}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Releases)
    const list = await runReleases(args.inventory, await inventoryModules(), {parallel: flags.parallel, ...(flags.host ? {hosts: flags.host} : {})})
    if (flags.json) this.log(JSON.stringify({format_version: 1, hosts: list}, null, 2))
    else process.stdout.write(formatReleases(list))
    if (list.some((h) => h.error)) this.exit(ExitCode.unreachable)
  }
}
