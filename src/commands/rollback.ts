import {Args, Flags} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {ExitCode} from '../model/exit-codes.js'
import {runRollback} from '../apply/run-apply.js'
import {inventoryModules} from '../apply/inventory-modules.js'
import {rolloutProgress} from '../apply/command-progress.js'
import {formatSummary} from '../apply/summary.js'

export default class Rollback extends KaopsCommand {
  static override summary = 'Undo the last apply, or switch hosts to a given release'
  static override description =
    "Undo the last apply across the site (the hosts it changed go back to the release it replaced, the others stay; a second rollback undoes the apply before), or switch to --to RELEASE, in the same safe order as apply; each host's managed files become byte for byte that release's"
  static override examples = ['<%= config.bin %> rollback inventories/prod.yaml', '<%= config.bin %> rollback inventories/prod.yaml --host dir2 --to 20250102T030405Z-1a2b3c4d', '<%= config.bin %> rollback inventories/prod.yaml --json']
  static override args = {inventory: Args.string({description: 'inventory YAML', required: true})}
  static override flags = {
    to: Flags.string({description: 'release id to return to on each host given (see `kaops releases`); default: undo the last apply'}),
    host: Flags.string({description: 'roll back only this host (repeatable)', multiple: true}),
    json: Flags.boolean({description: 'print the result as JSON'}),
    parallel: Flags.integer({description: 'hosts worked on at once', default: 10, min: 1}),
    playbook: Flags.string({description: 'playbook to follow (default: playbooks/rollback.yaml)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Rollback)
    const mods = await inventoryModules()
    const result = await runRollback(args.inventory, mods, {
      parallel: flags.parallel,
      ...(flags.host ? {hosts: flags.host} : {}),
      ...(flags.to ? {to: flags.to} : {}),
      ...(flags.playbook ? {playbook: flags.playbook} : {}),
      ...rolloutProgress(flags.json),
    })
    if (flags.json) this.log(JSON.stringify({format_version: 1, result}, null, 2))
    else process.stdout.write(formatSummary(result))
    if (!result.ok) this.exit(result.locked ? ExitCode.locked : ExitCode.error)
  }
}
