import {access, mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Flags} from '@oclif/core'
import {KaopsCommand} from '../cli/kaops-command.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'

export const INIT_SHAPES = ['lvs-dr', 'nginx-pair', 'dual-master', 'unicast'] as const
export type InitShape = (typeof INIT_SHAPES)[number]

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const SCHEMA = join(ROOT, 'schemas', 'inventory.schema.json')

/**
 * The commented starter inventory of a shape (templates/init/SHAPE.yaml), with its schema
 * reference made relative to where it will be written so editors find the schema.
 */
export async function starterInventory(shape: InitShape, outPath?: string): Promise<string> {
  const text = await readFile(join(ROOT, 'templates', 'init', `${shape}.yaml`), 'utf8')
  const ref = outPath ? relative(dirname(resolve(outPath)), SCHEMA) : '../schemas/inventory.schema.json'
  return text.replace(/\$schema=\S+/, `$schema=${ref}`)
}

export default class Init extends KaopsCommand {
  static override summary = 'Write a starter inventory for a common shape'
  static override description = 'Write a commented starter inventory for a common shape (LVS-DR pair, nginx pair, dual master, unicast pair), valid as written'
  static override examples = [
    '<%= config.bin %> init --shape lvs-dr --out inventories/prod.yaml',
    '<%= config.bin %> init --shape nginx-pair > inventories/web.yaml',
    '<%= config.bin %> init --shape unicast --out inventories/cloud.yaml --force',
  ]
  static override flags = {
    shape: Flags.string({description: 'which setup to start from', options: [...INIT_SHAPES], default: 'lvs-dr'}),
    out: Flags.string({description: 'write here (default: print)'}),
    force: Flags.boolean({description: 'overwrite --out when it exists'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Init)
    const text = await starterInventory(flags.shape as InitShape, flags.out)
    if (!flags.out) {
      process.stdout.write(text)
      return
    }
    if (!flags.force && (await access(flags.out).then(() => true, () => false))) {
      throw new KaopsError(`${flags.out} exists; pass --force to overwrite it`, {exit: ExitCode.error})
    }
    await mkdir(dirname(flags.out), {recursive: true})
    await writeFile(flags.out, text, {mode: 0o644})
    this.log(`${flags.out}: ${flags.shape} starter inventory; next: kaops validate ${flags.out}`)
  }
}
