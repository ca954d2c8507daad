import {Args} from '@oclif/core'
import {KaopsCommand} from '../../cli/kaops-command.js'
import {labUp, type LabUpResult} from '../../lab/lab.js'

export default class LabUp extends KaopsCommand {
  static override summary = 'Start the inventory hosts as local containers (needs root)'
  static override description =
    'Bring up the hosts an inventory names as real Linux hosts on this machine: systemd-nspawn containers booting Debian with systemd and sshd, each in its own network namespace on the lab bridge. Idempotent; repairs a half-built lab. Needs root.'
  static override examples = ['<%= config.bin %> lab up', '<%= config.bin %> lab up inventories/lab.yaml --json']
  static override args = {inventory: Args.string({description: 'inventory YAML with a `lab:` section', default: 'inventories/lab.yaml'})}
  static override enableJsonFlag = true

  async run(): Promise<LabUpResult> {
    const {args, flags} = await this.parse(LabUp)
    const result = await labUp(args.inventory, {progress: flags.json ? undefined : (line) => process.stderr.write(`${line}\n`)})
    if (!flags.json) {
      this.log(result.changed ? `lab up: ${result.hosts.length} hosts ready in ${result.seconds.toFixed(1)} s` : `lab up: already up, nothing to do (${result.hosts.length} hosts)`)
      for (const h of result.hosts) this.log(`  ${h.name.padEnd(12)} ${h.address.padEnd(15)} ${h.roles.join(',').padEnd(12)} ${h.action}`)
      this.log(`  ssh -i ${result.ssh.identityFile} -o UserKnownHostsFile=${result.ssh.knownHosts} -o StrictHostKeyChecking=yes ${result.ssh.user}@${result.hosts[0]?.address ?? 'ADDRESS'}`)
    }
    return result
  }
}
