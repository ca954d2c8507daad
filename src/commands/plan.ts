import {Args, Flags} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {ExitCode} from '../model/exit-codes.js'
import {loadInventory} from '../inventory/load.js'
import {renderHosts} from '../render/render-hosts.js'
import {runPlan} from '../plan/run-plan.js'
import {kaopsdArtifact} from '../plan/kaopsd-artifact.js'
import {formatPlanHuman} from '../plan/format-human.js'
import {formatPlanJson} from '../plan/format-json.js'
import {colourEnabled} from '../plan/colour.js'
import {toSavedPlan, writeSavedPlan} from '../plan/saved-plan.js'

export default class Plan extends KaopsCommand {
  static override summary = 'Show what apply would change, host by host'
  static override description = 'Show, host by host, what `kaops apply` would change: files (with diffs, secrets redacted), sysctl, firewall, kaopsd binary, units, loopback VIPs, and what it means for VRRP'
  static override examples = [
    '<%= config.bin %> plan inventories/prod.yaml',
    '<%= config.bin %> plan inventories/prod.yaml --json',
    '<%= config.bin %> plan inventories/prod.yaml --out prod.plan --detailed-exitcode',
    '<%= config.bin %> plan inventories/lab.yaml --host dir1 --host dir2',
  ]
  static override args = {inventory: Args.string({description: 'inventory YAML', required: true})}
  static override flags = {
    json: Flags.boolean({description: 'print the plan as JSON (format_version 1) instead of text'}),
    out: Flags.string({description: 'save the plan for `kaops apply FILE` (written mode 0600: it contains secrets)'}),
    'detailed-exitcode': Flags.boolean({description: 'exit 0 when nothing changes, 2 when something would (1 on bad input, 4 when a host could not be read)'}),
    parallel: Flags.integer({description: 'hosts read at once', default: 10, min: 1}),
    host: Flags.string({description: 'plan only this host (repeatable)', multiple: true}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Plan)
    const kaopsd = await kaopsdArtifact()
    const {plan, desired} = await runPlan(args.inventory, {loadInventory: (p) => loadInventory(p), renderHosts: (inv) => renderHosts(inv)}, {
      parallel: flags.parallel,
      hosts: flags.host,
      kaopsd,
    })
    if (flags.json) process.stdout.write(formatPlanJson(plan))
    else process.stdout.write(formatPlanHuman(plan, {colour: colourEnabled(process.stdout)}))
    if (flags.out) {
      await writeSavedPlan(flags.out, toSavedPlan(plan, desired, kaopsd?.sha256))
      process.stderr.write(`Saved the plan to ${flags.out} (mode 0600). It contains secrets: keep it out of git.\n`)
    }
    // Like status and releases: a host that could not be read is exit 4, whatever else changes.
    // process.exitCode, not this.exit: under --json oclif turns this.exit(n) into 1.
    if (plan.errors.length > 0) process.exitCode = ExitCode.unreachable
    else if (flags['detailed-exitcode'] && plan.has_changes) process.exitCode = ExitCode.changes
  }
}

