import {readFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {formatProblem, validateInventoryText} from '../inventory/load.js'

export default class Validate extends KaopsCommand {
  static override summary = 'Check an inventory without contacting any host'
  static override description = 'Check an inventory (YAML, schema, meaning, secrets) without contacting any host: exit 0 when valid, 1 otherwise'
  static override examples = [
    '<%= config.bin %> validate inventories/prod.yaml',
    '<%= config.bin %> validate inventories/prod.yaml --json',
    '<%= config.bin %> validate inventories/prod.yaml --no-secrets   # in CI, where the secrets are not set',
  ]
  static override args = {inventory: Args.string({description: 'inventory YAML', required: true})}
  static override flags = {
    json: Flags.boolean({description: 'print {valid, problems[]} as JSON'}),
    secrets: Flags.boolean({description: 'resolve secret references (env, file)', default: true, allowNo: true}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Validate)
    let text: string
    try {
      text = await readFile(args.inventory, 'utf8')
    } catch (error) {
      throw new KaopsError(`${args.inventory}: cannot read the inventory (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {place: {file: args.inventory}})
    }
    const problems = validateInventoryText(text, args.inventory, flags.secrets ? {} : {secrets: false})
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({format_version: 1, inventory: args.inventory, valid: problems.length === 0, problems}, null, 2)}\n`)
    } else if (problems.length === 0) {
      this.log(`${args.inventory}: valid`)
    } else {
      for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`)
      process.stderr.write(`${args.inventory}: ${problems.length} problem(s)\n`)
    }
    if (problems.length > 0) this.exit(ExitCode.error)
  }
}
