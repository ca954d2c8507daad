import {Args, Flags} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {ExitCode} from '../model/exit-codes.js'
import {loadInventory} from '../inventory/load.js'
import {buildSiteStatus, formatSiteStatus, gatherStatusFacts, type SiteStatus} from '../status/index.js'

export default class Status extends KaopsCommand {
  static override summary = 'The site at a glance: VIP holders, VRRP states, real servers'
  static override description = 'One screen of the whole site over SSH: each VIP and its holder, each director\'s VRRP state and priority, each service\'s real servers up/down. Exit 1 when a VIP is down or split, 4 when a director cannot be reached'
  static override examples = [
    '<%= config.bin %> status inventories/prod.yaml',
    '<%= config.bin %> status inventories/prod.yaml --json | jq \'.vips[] | {name, holders, health}\'',
  ]
  static override enableJsonFlag = true
  static override args = {inventory: Args.string({description: 'inventory YAML', required: true})}
  static override flags = {
    parallel: Flags.integer({description: 'directors probed at once', default: 10, min: 1}),
    'connect-timeout': Flags.integer({description: 'SSH connect timeout in seconds', default: 10, min: 1}),
  }

  async run(): Promise<SiteStatus> {
    const {args, flags} = await this.parse(Status)
    // Status reads state only: no VRRP secret is needed to look.
    const inv = await loadInventory(args.inventory, {secrets: false})
    const facts = await gatherStatusFacts(inv, {parallel: flags.parallel, connectTimeoutMs: flags['connect-timeout'] * 1000})
    const status = buildSiteStatus(inv, facts)
    if (!this.jsonEnabled()) process.stdout.write(formatSiteStatus(status))
    // Not this.exit(): with --json oclif's catch would turn its exit error into exit 1 and a
    // second JSON document. A normal return prints the JSON; the exit code rides along.
    process.exitCode = status.directors.some((d) => !d.reachable) ? ExitCode.unreachable : status.healthy ? ExitCode.ok : ExitCode.error
    return status
  }
}
