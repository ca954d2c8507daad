import type { DecodeErrorKind } from './packet.js'
import type { VrrpInstanceStats } from '../../model/kaopsd-status.js'

/**
 * Per-instance receive/send statistics, under keepalived's own names (its vrrp_stats) so that
 * `kaopsd status` reads like keepalived's stats file; the status model documents each one.
 * The daemon always keeps every counter, including those beyond keepalived's thirteen.
 */
export type Counters = Required<VrrpInstanceStats>

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
