import {Args} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {ExitCode} from '../model/exit-codes.js'

export default class Plan extends KaopsCommand {
  static override description = 'plan (not implemented yet: see the plan issue)'
  static override args = {inventory: Args.string({description: 'inventory YAML', required: false})}

  async run(): Promise<void> {
    await this.parse(Plan)
    this.error('kaops plan is not implemented yet', {exit: ExitCode.error})
  }
}
