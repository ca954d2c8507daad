import type { DecodeErrorKind } from './packet.js'

/**
 * Per-instance receive/send statistics. The first thirteen carry keepalived's own names (its
 * vrrp_stats), so `kaopsd status` reads like keepalived's stats file. The rest are failures
 * keepalived only counts under SNMP (chk_err, vers_err, vrid_err) or not at all
 * (advert_interval_err is declared but never bumped in 2.2.7; unknown_peer_err is ours), kept
 * so that no dropped packet goes uncounted.
 */
export interface Counters {
  advert_rcvd: number
  advert_sent: number
  become_master: number
  release_master: number
  packet_len_err: number
  ip_ttl_err: number
  invalid_type_rcvd: number
  addr_list_err: number
  invalid_authtype: number
  authtype_mismatch: number
  auth_failure: number
  pri_zero_rcvd: number
  pri_zero_sent: number
  advert_interval_err: number
  chk_err: number
  vers_err: number
  vrid_err: number
  unknown_peer_err: number
}

export type CounterName = keyof Counters

export function zeroCounters(): Counters {
  return {
    advert_rcvd: 0,
    advert_sent: 0,
    become_master: 0,
    release_master: 0,
    packet_len_err: 0,
    ip_ttl_err: 0,
    invalid_type_rcvd: 0,
    addr_list_err: 0,
    invalid_authtype: 0,
    authtype_mismatch: 0,
    auth_failure: 0,
    pri_zero_rcvd: 0,
    pri_zero_sent: 0,
    advert_interval_err: 0,
    chk_err: 0,
    vers_err: 0,
    vrid_err: 0,
    unknown_peer_err: 0,
  }
}

/** Which counter a codec failure bumps (keepalived counts a wrong length as packet_len_err). */
export function counterForDecodeError(kind: DecodeErrorKind): CounterName {
  switch (kind) {
    case 'too_short':
    case 'length_mismatch':
    case 'bad_ip_header':
      return 'packet_len_err'
    case 'bad_version':
      return 'vers_err'
    case 'bad_type':
      return 'invalid_type_rcvd'
    case 'bad_checksum':
      return 'chk_err'
  }
}
