import {Args, Flags} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {ExitCode} from '../model/exit-codes.js'
import {verifyInventory} from '../verify/run-verify.js'
import {formatVerifyHuman} from '../verify/format-human.js'

export default class Verify extends KaopsCommand {
  static override summary = 'Check the invariants of the live cluster, or drill failovers'
  static override description =
    'Read live state over SSH and check the invariants of the cluster (VIP placement, kaopsd release and config, adverts and receive errors, peer agreement, DR real servers, ARP, firewall, real servers); with --failover-drill, inject faults on each master and measure how fast the VIP moves'
  static override examples = [
    '<%= config.bin %> verify inventories/prod.yaml',
    '<%= config.bin %> verify inventories/prod.yaml --json',
    '<%= config.bin %> verify inventories/lab.yaml --failover-drill --report drill.html',
    '<%= config.bin %> verify inventories/lab.yaml --failover-drill --instance VI_1 --fault crash',
  ]
  static override args = {inventory: Args.string({description: 'inventory YAML', required: true})}
  static override flags = {
    json: Flags.boolean({description: 'print the report as JSON (format_version 1)'}),
    parallel: Flags.integer({description: 'hosts read at once', default: 10, min: 1}),
    'status-gap': Flags.integer({description: 'seconds between the two kaopsd status reads (default: 2 advert intervals)', min: 1}),
    'failover-drill': Flags.boolean({description: 'inject faults on each master and measure the failover (refuses an unhealthy cluster)'}),
    instance: Flags.string({description: 'drill only this VRRP instance (repeatable)', multiple: true, dependsOn: ['failover-drill']}),
    fault: Flags.string({description: 'fault to inject (repeatable; default graceful then crash)', multiple: true, options: ['graceful', 'crash', 'link', 'track'], dependsOn: ['failover-drill']}),
    report: Flags.string({description: 'write an HTML report with an SVG timeline of each drill to FILE', dependsOn: ['failover-drill']}),
    tolerance: Flags.integer({description: 'milliseconds allowed beyond the protocol bound', default: 50, min: 0}),
    'ignore-check': Flags.string({description: 'a check id the drill may start without (repeatable), e.g. service.realservers', multiple: true, dependsOn: ['failover-drill']}),
    'probe-port': Flags.integer({description: 'TCP port the probe connects to on the VIP (default: the service port fronted by the VIP, else 22)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Verify)
    if (flags['failover-drill']) {
      const {runDrillCommand} = await import('../verify/drill-command.js')
      const ok = await runDrillCommand(args.inventory, {
        json: flags.json,
        parallel: flags.parallel,
        instances: flags.instance,
        faults: flags.fault as never,
        reportFile: flags.report,
        toleranceMs: flags.tolerance,
        probePort: flags['probe-port'],
        ignoreChecks: flags['ignore-check'],
        out: (s) => process.stdout.write(s),
        err: (s) => process.stderr.write(s),
      })
      if (!ok) this.exit(ExitCode.error)
      return
    }
    const {report} = await verifyInventory(args.inventory, {parallel: flags.parallel, statusGapSeconds: flags['status-gap']})
    process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatVerifyHuman(report))
    if (!report.ok) this.exit(ExitCode.error)
  }
}
