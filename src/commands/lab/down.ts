import {Args} from '@oclif/core'
import {KaopsCommand} from '../../cli/kaops-command.js'
import {labDown, type LabDownResult} from '../../lab/lab.js'

export default class LabDown extends KaopsCommand {
  static override summary = 'Remove the lab that lab up created'
  static override description =
    'Remove exactly what `kaops lab up` created (containers and their processes, namespaces, links, the bridge, per-host directories); the cached base image and the lab key stay. Needs root.'
  static override examples = ['<%= config.bin %> lab down', '<%= config.bin %> lab down inventories/lab.yaml', '<%= config.bin %> lab down --json']
  static override args = {inventory: Args.string({description: 'inventory YAML with a `lab:` section', default: 'inventories/lab.yaml'})}
  static override enableJsonFlag = true

  async run(): Promise<LabDownResult> {
    const {args, flags} = await this.parse(LabDown)
    const result = await labDown(args.inventory, {progress: flags.json ? undefined : (line) => process.stderr.write(`${line}\n`)})
    if (!flags.json) this.log(result.removed.length === 0 ? 'lab down: nothing to remove' : `lab down: removed ${result.removed.length} things in ${result.seconds.toFixed(1)} s`)
    return result
  }
}
