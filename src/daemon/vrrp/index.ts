/**
 * The VRRP protocol core, as the runtime drives it: decode what the socket read, feed it to
 * step() with the monotonic time, carry out the actions, arm the timers they name, and call
 * step() again with { kind: 'timer' } when one expires. Nothing in here does I/O.
 */
export { createRouter, step, status, ownFaultReason, TAKEOVER_PRIORITY } from './router.js'
export type { Router, RouterConfig, RouterEvent, RouterAction, RouterStateName, RouterStatus, GarpConfig, RouterAuth, StepResult, TrackKind, ReceivedAdvert } from './router.js'
export { encodeAdvert, decodeAdvert, decodeIpv4Packet, encodeIpv4Packet, VRRP_MULTICAST_V4, VRRP_MULTICAST_V6, VRRP_PROTOCOL } from './packet.js'
export type { Advert, AdvertToSend, DecodeError, DecodeErrorKind, DecodeResult, AddressFamily, VrrpVersion } from './packet.js'
export { syncGroupDecisions, withSyncGroupMembers } from './sync-group.js'
export type { SyncMember, SyncDecision } from './sync-group.js'
export type { Counters, CounterName } from './counters.js'
export { masterDownUs, skewUs } from './timers.js'
export type { TimerName } from './timers.js'
