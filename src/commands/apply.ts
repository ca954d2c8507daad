import {Args} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {ExitCode} from '../model/exit-codes.js'

export default class Apply extends KaopsCommand {
  static override description = 'apply (not implemented yet: see the apply issue)'
  static override args = {inventory: Args.string({description: 'inventory YAML', required: false})}

  async run(): Promise<void> {
    await this.parse(Apply)
    this.error('kaops apply is not implemented yet', {exit: ExitCode.error})
  }
}
