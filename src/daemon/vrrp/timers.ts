import type { VrrpVersion } from './packet.js'

/**
 * keepalived's VRRP timing, in integer microseconds so that the arithmetic (and its rounding)
 * is exactly keepalived's; callers convert to the millisecond clock at the edge (usToMs).
 */

/** TakeoverLease: the end of an operator takeover (kaopsd's own, not in keepalived). */
export type TimerName = 'MasterDown' | 'Advert' | 'PreemptDelay' | 'GarpDelay' | 'GarpRefresh' | 'TakeoverLease'

export const US_PER_CS = 10_000

export function csToUs(cs: number): number {
  return Math.round(cs * US_PER_CS)
}

export function usToMs(us: number): number {
  return us / 1000
}

/**
 * Skew_Time. VRRPv2 (RFC 3768 6.1): (256 - Priority) / 256 seconds, whatever the advert
 * interval, as keepalived computes it. VRRPv3 (RFC 5798 6.1): ((256 - Priority) *
 * Master_Adver_Interval) / 256, in keepalived's integer form (cs * 625 / 16 = cs * 10000 / 256).
 */
export function skewUs(version: VrrpVersion, priority: number, masterAdverIntUs: number): number {
  const p = 256 - priority
  if (version === 2) return Math.floor((p * 1_000_000) / 256)
  return Math.floor((p * Math.floor(masterAdverIntUs / US_PER_CS) * 625) / 16)
}

/** Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time. */
export function masterDownUs(version: VrrpVersion, priority: number, masterAdverIntUs: number, adverts = 3): number {
  return adverts * masterAdverIntUs + skewUs(version, priority, masterAdverIntUs)
}
