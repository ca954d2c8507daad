import {runCommand} from './run-command.js'

/**
 * A virtual (or static) address as `ip address` takes it. Everything kaopsd adds to or removes
 * from an interface goes through this file.
 */
export interface InterfaceAddress {
  /** Address without prefix, IPv4 or IPv6. */
  address: string
  prefixLength: number
  device: string
  broadcast?: string
  label?: string
  scope?: string
}

export function formatAddress(a: InterfaceAddress): string {
  return `${a.address}/${a.prefixLength} dev ${a.device}`
}

function addressArgs(a: InterfaceAddress): string[] {
  const args = [`${a.address}/${a.prefixLength}`, 'dev', a.device]
  if (a.broadcast) args.push('broadcast', a.broadcast)
  if (a.label) args.push('label', a.label)
  if (a.scope) args.push('scope', a.scope)
  return args
}

/** Adds the address; an address that is already there is not an error (reload, restart). */
export async function addAddress(a: InterfaceAddress): Promise<void> {
  // `replace` is idempotent where `add` fails with EEXIST.
  await runCommand('ip', ['address', 'replace', ...addressArgs(a)])
}

/** Removes the address; an address that is already gone is not an error. */
export async function removeAddress(a: InterfaceAddress): Promise<void> {
  try {
    await runCommand('ip', ['address', 'del', `${a.address}/${a.prefixLength}`, 'dev', a.device])
  } catch (err) {
    if (/Cannot assign requested address|EADDRNOTAVAIL|No such device/i.test(String(err))) return
    throw err
  }
}

interface IpJsonAddrInfo {
  family: string
  local: string
  prefixlen: number
  label?: string
}

interface IpJsonLink {
  ifname: string
  addr_info?: IpJsonAddrInfo[]
}

/** Addresses on one interface (or on all when device is omitted), as `ip -j address` shows. */
export async function listAddresses(device?: string): Promise<InterfaceAddress[]> {
  const args = ['-j', 'address', 'show']
  if (device) args.push('dev', device)
  const {stdout} = await runCommand('ip', args)
  const links = JSON.parse(stdout || '[]') as IpJsonLink[]
  return links.flatMap((link) =>
    (link.addr_info ?? []).map((ai) => ({
      address: ai.local,
      prefixLength: ai.prefixlen,
      device: link.ifname,
      ...(ai.label && ai.label !== link.ifname ? {label: ai.label} : {}),
    })),
  )
}
