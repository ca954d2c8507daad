import {mkdir, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'

/**
 * What `up` created, written before and after each step, so `down` removes exactly that (and
 * nothing it merely found), and the next `up` can finish or repair a half-built lab.
 */
export interface HostRecord {
  name: string
  /** Address with prefix and the interface it sits on inside the host. */
  cidr: string
  interface: string
  netns: string
  veth: string
  dir: string
  /** Base image directory the host's root is made from. */
  base: string
  /** 'overlay' when root is an overlay mount over base, 'copy' when overlay failed. */
  rootMode?: 'overlay' | 'copy'
  /** The systemd-nspawn process, once started. */
  pid?: number
}

export interface LabState {
  version: 1
  inventory: string
  /** Set once `up` created the bridge (a bridge it found is never recorded, never removed). */
  bridge?: {name: string; cidr: string}
  hosts: Record<string, HostRecord>
  /** The known_hosts file `up` wrote (removed by `down`). */
  knownHosts?: string
}

export function emptyState(inventory: string): LabState {
  return {version: 1, inventory, hosts: {}}
}

export async function readState(file: string): Promise<LabState | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const state = JSON.parse(text) as LabState
  if (state.version !== 1 || typeof state.hosts !== 'object') throw new Error(`${file}: not a kaops lab state file`)
  return state
}

/** Atomic: a crash leaves the previous or the new state, never half a file. */
export async function writeState(file: string, state: LabState): Promise<void> {
  await mkdir(dirname(file), {recursive: true})
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`)
  await rename(tmp, file)
}

export async function removeState(file: string): Promise<void> {
  await rm(file, {force: true})
}
