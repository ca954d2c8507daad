import {Args} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {ExitCode} from '../model/exit-codes.js'

export default class Rollback extends KaopsCommand {
  static override description = 'rollback (not implemented yet: see the rollback issue)'
  static override args = {inventory: Args.string({description: 'inventory YAML', required: false})}

  async run(): Promise<void> {
    await this.parse(Rollback)
    this.error('kaops rollback is not implemented yet', {exit: ExitCode.error})
  }
}
