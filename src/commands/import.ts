import {mkdir, writeFile, access} from 'node:fs/promises'
import {dirname} from 'node:path'
import {Flags} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {importFromFiles, importFromHosts, importedInventoryYaml, type ImportWarning} from '../import/index.js'
import {parseAddressFlags} from '../import/from-files.js'

export interface ImportCommandResult {
  format_version: 1
  out?: string
  directors: string[]
  warnings: ImportWarning[]
  notes: string[]
  /** The inventory text, when not written to a file. */
  inventory?: string
}

export default class Import extends KaopsCommand {
  static override summary = 'Turn existing keepalived.conf files into a kaops inventory'
  static override description = 'Turn existing keepalived.conf files (or live keepalived directors over SSH) into one kaops inventory; what cannot be modelled is kept as raw lines, with a WARNING naming file:line'
  static override examples = [
    '<%= config.bin %> import --file lb1/keepalived.conf --file lb2/keepalived.conf --out inventories/prod.yaml',
    '<%= config.bin %> import --file lb1.conf --file lb2.conf --address lb1=192.168.1.11/24 --address lb2=192.168.1.12/24',
    '<%= config.bin %> import --file lb1.conf --json | jq -r .inventory',
    '<%= config.bin %> import --host 192.168.1.11 --host 192.168.1.12 --user root --identity ~/.ssh/id_ed25519 --out inventories/prod.yaml',
    '<%= config.bin %> import --host 192.168.1.11 --host 192.168.1.12 --no-real-servers --out inventories/prod.yaml',
  ]
  static override enableJsonFlag = true
  static override flags = {
    file: Flags.string({description: 'a director\'s keepalived.conf (repeat: one per director)', multiple: true, exclusive: ['host']}),
    host: Flags.string({description: 'a director to read /etc/keepalived/keepalived.conf from over SSH (repeatable)', multiple: true, exclusive: ['file']}),
    out: Flags.string({description: 'write the inventory here (default: print it)'}),
    force: Flags.boolean({description: 'overwrite --out when it exists'}),
    name: Flags.string({description: 'metadata.name of the inventory', default: 'imported'}),
    address: Flags.string({description: 'NAME=CIDR: a director\'s address when its config names none (repeatable)', multiple: true}),
    user: Flags.string({description: 'SSH user for --host', default: 'root'}),
    port: Flags.integer({description: 'SSH port for --host', default: 22}),
    identity: Flags.string({description: 'SSH private key for --host'}),
    'known-hosts': Flags.string({description: 'known_hosts file for --host (strict: unknown hosts are refused)', default: '~/.ssh/known_hosts'}),
    'config-path': Flags.string({description: 'keepalived.conf path on the hosts', default: '/etc/keepalived/keepalived.conf'}),
    'real-servers': Flags.boolean({description: 'with --host, also log in to the LVS-DR real servers (same SSH settings) and import one already prepared (VIP on lo, ARP sysctls) with prepare: true; --no-real-servers skips these logins', default: true, allowNo: true}),
  }

  async run(): Promise<ImportCommandResult> {
    const {flags} = await this.parse(Import)
    if (!flags.file?.length && !flags.host?.length) throw new KaopsError('nothing to import: give --file keepalived.conf (one per director) or --host HOST', {exit: ExitCode.error, suggestions: ['kaops import --file lb1.conf --file lb2.conf --out inventories/prod.yaml']})
    if (flags.out && !flags.force) {
      const exists = await access(flags.out).then(() => true, () => false)
      if (exists) throw new KaopsError(`${flags.out} exists; pass --force to overwrite it`, {exit: ExitCode.error})
    }
    const r = flags.file?.length
      ? await importFromFiles(flags.file, {name: flags.name, addresses: parseAddressFlags(flags.address ?? [])})
      : await importFromHosts(flags.host!, {
          name: flags.name,
          user: flags.user,
          port: flags.port,
          knownHosts: flags['known-hosts'],
          configPath: flags['config-path'],
          realServers: flags['real-servers'],
          ...(flags.identity ? {identityFile: flags.identity} : {}),
        })
    const yaml = importedInventoryYaml(r)
    const directors = (r.inventory.directors as Array<{name: string}>).map((d) => d.name)
    for (const w of r.warnings) process.stderr.write(`WARNING ${w.where}: ${w.message}\n`)
    if (flags.out) {
      await mkdir(dirname(flags.out), {recursive: true})
      await writeFile(flags.out, yaml, {mode: 0o644})
      this.log(`${flags.out}: ${directors.length} director(s) (${directors.join(', ')}), ${r.warnings.length} warning(s)`)
      for (const n of r.notes) this.log(`- ${n}`)
      this.log(`next: kaops validate ${flags.out} && kaops plan ${flags.out}`)
      return {format_version: 1, out: flags.out, directors, warnings: r.warnings, notes: r.notes}
    }
    if (!this.jsonEnabled()) process.stdout.write(yaml)
    return {format_version: 1, directors, warnings: r.warnings, notes: r.notes, inventory: yaml}
  }
}
