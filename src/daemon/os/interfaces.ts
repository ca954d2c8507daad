import {readFile, readdir} from 'node:fs/promises'

/** Facts about a network interface, read from sysfs (no netlink needed for these). */
export interface InterfaceInfo {
  name: string
  ifindex: number
  mac: Buffer
  /** Administratively up and carrier present. */
  up: boolean
}

const sysfs = '/sys/class/net'

export async function listInterfaceNames(): Promise<string[]> {
  return (await readdir(sysfs)).sort()
}

export async function readInterface(name: string): Promise<InterfaceInfo> {
  const base = `${sysfs}/${name}`
  const [ifindex, address, operstate, flags] = await Promise.all([
    readFile(`${base}/ifindex`, 'utf8'),
    readFile(`${base}/address`, 'utf8'),
    readFile(`${base}/operstate`, 'utf8'),
    readFile(`${base}/flags`, 'utf8'),
  ])
  const ifFlags = Number.parseInt(flags.trim(), 16)
  const adminUp = (ifFlags & 0x1) !== 0
  const state = operstate.trim()
  return {
    name,
    ifindex: Number.parseInt(ifindex.trim(), 10),
    mac: Buffer.from(address.trim().split(':').map((h) => Number.parseInt(h, 16))),
    // "unknown" is what loopback and some virtual links report while working.
    up: adminUp && (state === 'up' || state === 'unknown'),
  }
}
