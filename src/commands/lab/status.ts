import {Args} from '@oclif/core'
import {KaopsCommand} from '../../cli/kaops-command.js'
import {labStatus, type LabStatusResult} from '../../lab/lab.js'

export default class LabStatus extends KaopsCommand {
  static override summary = 'List the lab hosts and whether they run and answer SSH'
  static override description = 'List the lab hosts: address, whether the container runs and whether sshd answers on port 22.'
  static override examples = ['<%= config.bin %> lab status', '<%= config.bin %> lab status --json']
  static override args = {inventory: Args.string({description: 'inventory YAML with a `lab:` section', default: 'inventories/lab.yaml'})}
  static override enableJsonFlag = true

  async run(): Promise<LabStatusResult> {
    const {args} = await this.parse(LabStatus)
    const s = await labStatus(args.inventory)
    const yes = (b: boolean): string => (b ? 'yes' : 'no')
    this.log(`bridge ${s.bridge.name} ${s.bridge.hostAddress}: ${s.bridge.present ? 'up' : 'absent'}`)
    this.log(`${'HOST'.padEnd(12)} ${'ADDRESS'.padEnd(15)} ${'ROLES'.padEnd(12)} ${'RUNNING'.padEnd(8)} SSHD`)
    for (const h of s.hosts) this.log(`${h.name.padEnd(12)} ${h.address.padEnd(15)} ${h.roles.join(',').padEnd(12)} ${yes(h.running).padEnd(8)} ${yes(h.sshd)}`)
    this.log(s.ready ? 'lab is ready' : 'lab is not ready: run `kaops lab up`')
    return s
  }
}
