import {Args} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {ExitCode} from '../model/exit-codes.js'

export default class Verify extends KaopsCommand {
  static override description = 'verify (not implemented yet: see the verify issue)'
  static override args = {inventory: Args.string({description: 'inventory YAML', required: false})}

  async run(): Promise<void> {
    await this.parse(Verify)
    this.error('kaops verify is not implemented yet', {exit: ExitCode.error})
  }
}
