import {nodeConfigFs} from '../daemon/config/index.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {mapInventory, type ImportOptions, type ImportResult} from './map-inventory.js'
import {readDirectorConfig, type DirectorSource} from './read-config.js'

export interface FileImportOptions extends ImportOptions {
  /** Director name -> address with prefix (`--address NAME=CIDR`). */
  addresses?: Record<string, string>
}

/** Parse `NAME=CIDR` flags; bad ones are an input error naming the flag. */
export function parseAddressFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of flags) {
    const m = /^([A-Za-z][A-Za-z0-9_.-]*)=([0-9A-Fa-f.:]+(\/\d{1,3})?)$/.exec(f)
    if (!m) throw new KaopsError(`--address ${f}: expected NAME=CIDR, e.g. lb1=192.168.1.11/24`, {exit: ExitCode.error})
    out[m[1]!] = m[2]!
  }
  return out
}

/** One keepalived.conf per director, read from local files (includes resolved next to them). */
export async function importFromFiles(files: string[], opts: FileImportOptions = {}): Promise<ImportResult> {
  const sources: DirectorSource[] = []
  for (const f of files) {
    try {
      sources.push(await readDirectorConfig(f, nodeConfigFs))
    } catch (error) {
      throw new KaopsError(`${f}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {exit: ExitCode.error})
    }
  }
  const first = mapInventory(sources, opts)
  const addresses = opts.addresses ?? {}
  if (Object.keys(addresses).length === 0) return first
  // Names are only known after mapping (router_id or file name): apply --address by name.
  const dirs = first.inventory.directors as Array<{name: string}>
  for (const name of Object.keys(addresses)) {
    if (!dirs.some((d) => d.name === name)) throw new KaopsError(`--address ${name}=...: no director of that name (imported: ${dirs.map((d) => d.name).join(', ')})`, {exit: ExitCode.error})
  }
  dirs.forEach((d, i) => {
    const a = addresses[d.name]
    if (a !== undefined) sources[i]!.address = a
    sources[i]!.name = d.name
  })
  return mapInventory(sources, opts)
}
