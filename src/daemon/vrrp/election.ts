import ipaddr from 'ipaddr.js'

/**
 * Compares two addresses of one family as unsigned numbers (RFC 5798 6.4.3: on equal
 * priority the router with the greater primary address wins). -1, 0 or 1; an address that
 * does not parse sorts lowest, so a garbage source can never win a tie.
 */
export function compareAddresses(a: string, b: string): number {
  const bytes = (s: string): number[] | null => {
    try {
      return ipaddr.parse(s).toByteArray()
    } catch {
      return null
    }
  }
  const x = bytes(a)
  const y = bytes(b)
  if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1
  if (x.length !== y.length) return x.length < y.length ? -1 : 1
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1
  return 0
}

/** Does an advert (priority, source) beat us (priority, primary address)? */
export function advertWins(theirPriority: number, theirAddress: string, ourPriority: number, ourAddress: string): boolean {
  if (theirPriority !== ourPriority) return theirPriority > ourPriority
  return compareAddresses(theirAddress, ourAddress) > 0
}

export function sameAddress(a: string, b: string): boolean {
  return compareAddresses(a, b) === 0 && a !== '' && b !== ''
}

export function isMulticast(address: string): boolean {
  try {
    return ipaddr.parse(address).range() === 'multicast'
  } catch {
    return false
  }
}
