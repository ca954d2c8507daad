import {Args, Flags} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {KaopsError} from '../model/errors.js'
import {loadInventory} from '../inventory/load.js'
import {renderHosts} from '../render/render-hosts.js'
import {writeRenderedTree} from '../render/write-tree.js'

export default class Render extends KaopsCommand {
  static override summary = 'Write the files of every host to a directory, for review'
  static override description = "Write every host's files (keepalived.conf, units, sysctl, firewall rules) under DIR/<host>/<path>, for review; contacts nothing"
  static override examples = [
    '<%= config.bin %> render inventories/prod.yaml --out /tmp/prod',
    '<%= config.bin %> render inventories/prod.yaml --out /tmp/prod --redact --host lb1',
    '<%= config.bin %> render inventories/prod.yaml --out /tmp/prod --json',
  ]
  static override args = {inventory: Args.string({description: 'inventory YAML', required: true})}
  static override flags = {
    out: Flags.string({description: 'directory to write into (each host gets a subdirectory)', required: true}),
    host: Flags.string({description: 'render only this host (repeatable)', multiple: true}),
    redact: Flags.boolean({description: 'replace secret values with <redacted> (for sharing the output)'}),
    json: Flags.boolean({description: 'list what was written as JSON'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Render)
    const inventory = await loadInventory(args.inventory)
    let hosts = renderHosts(inventory).filter((h) => h.files.length > 0 || flags.host?.includes(h.name))
    if (flags.host) {
      const known = new Set(renderHosts(inventory).map((h) => h.name))
      const unknown = flags.host.filter((h) => !known.has(h))
      if (unknown.length > 0) throw new KaopsError(`unknown host(s): ${unknown.join(', ')}`, {suggestions: [`hosts in this inventory: ${[...known].join(', ')}`]})
      hosts = hosts.filter((h) => flags.host!.includes(h.name))
    }
    const written = await writeRenderedTree(hosts, flags.out, {redact: flags.redact})
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({format_version: 1, out: flags.out, files: written.map(({local, ...w}) => ({...w, local, mode: `0${w.mode.toString(8)}`}))}, null, 2)}\n`)
      return
    }
    for (const w of written) this.log(`${w.local}  (0${w.mode.toString(8)})${w.secret ? '  contains secrets' : ''}`)
    this.log(`${written.length} file(s) for ${hosts.length} host(s) under ${flags.out}`)
    if (written.some((w) => w.secret)) process.stderr.write('Note: some files contain secrets (mode 0600); use --redact before sharing them.\n')
  }
}
