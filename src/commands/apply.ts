import {Args, Flags} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {ExitCode} from '../model/exit-codes.js'
import {runApply} from '../apply/run-apply.js'
import {inventoryModules} from '../apply/inventory-modules.js'
import {askYesNo, shouldAsk} from '../apply/confirm.js'
import {rolloutProgress} from '../apply/command-progress.js'
import {formatSummary} from '../apply/summary.js'
import {formatPlanHuman} from '../plan/format-human.js'
import {colourEnabled} from '../plan/colour.js'

export default class Apply extends KaopsCommand {
  static override summary = 'Make the hosts match the inventory, safely, host by host'
  static override description =
    'Make the hosts match the inventory, safely: real servers first, then directors one at a time (backups before masters), each in a new release, gated on a healthy cluster, rolled back automatically on failure'
  static override examples = [
    '<%= config.bin %> apply inventories/prod.yaml',
    '<%= config.bin %> apply inventories/prod.yaml --yes --json',
    '<%= config.bin %> apply prod.plan',
  ]
  static override args = {target: Args.string({description: 'inventory YAML, or a plan saved with `kaops plan --out`', required: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'do not ask before acting'}),
    json: Flags.boolean({description: 'print the result as JSON (no progress, no question)'}),
    parallel: Flags.integer({description: 'hosts worked on at once (never two directors of one VRRP instance)', default: 10, min: 1}),
    host: Flags.string({description: 'apply only to this host (repeatable)', multiple: true}),
    playbook: Flags.string({description: 'playbook to follow (default: playbooks/apply.yaml)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Apply)
    const mods = await inventoryModules()
    const ui = rolloutProgress(flags.json)
    const outcome = await runApply(args.target, mods, {
      parallel: flags.parallel,
      ...(flags.host ? {hosts: flags.host} : {}),
      ...(flags.playbook ? {playbook: flags.playbook} : {}),
      ...ui,
      confirm: async (plan) => {
        if (!flags.json) process.stdout.write(formatPlanHuman(plan, {colour: colourEnabled(process.stdout)}))
        if (!shouldAsk({yes: flags.yes, json: flags.json, stdinTTY: Boolean(process.stdin.isTTY), stdoutTTY: Boolean(process.stdout.isTTY)})) return true
        return askYesNo('Apply these changes?')
      },
    })
    if (outcome.skipped === 'no-changes') {
      if (flags.json) this.log(JSON.stringify({format_version: 1, changed: false, result: null}, null, 2))
      else this.log('No changes: every host already matches the inventory. Nothing was touched.')
      return
    }
    if (outcome.skipped === 'declined') {
      this.log('Apply cancelled; nothing was touched.')
      return
    }
    const result = outcome.result!
    if (flags.json) this.log(JSON.stringify({format_version: 1, changed: true, result}, null, 2))
    else process.stdout.write(formatSummary(result))
    if (!result.ok) this.exit(result.locked ? ExitCode.locked : ExitCode.error)
  }
}
