import type {ControlRequest} from './control-server.js'

/**
 * The arguments of {"command":"takeover"} and {"command":"takeover-end"} on the control socket,
 * checked. Pure: the daemon feeds the result to its VRRP service.
 */

export const TAKEOVER_LEASE_MIN_SECONDS = 1
export const TAKEOVER_LEASE_MAX_SECONDS = 3600
export const TAKEOVER_DEFAULT_LEASE_SECONDS = 60

export interface TakeoverRequest {
  /** Instance names; empty means every instance. */
  instances: string[]
  reason?: string
}

export interface TakeoverStartRequest extends TakeoverRequest {
  leaseSeconds: number
}

/** instances (optional array of names) and reason (optional string), else an Error saying what is wrong. */
export function parseTakeoverEndRequest(req: ControlRequest): TakeoverRequest {
  const out: TakeoverRequest = {instances: instanceList(req.instances)}
  if (req.reason !== undefined) {
    if (typeof req.reason !== 'string') throw new Error('"reason" must be a string')
    if (req.reason !== '') out.reason = req.reason
  }
  return out
}

/** As parseTakeoverEndRequest, plus leaseSeconds: a whole number of seconds, 1..3600 (default 60). */
export function parseTakeoverRequest(req: ControlRequest): TakeoverStartRequest {
  const lease = req.leaseSeconds ?? TAKEOVER_DEFAULT_LEASE_SECONDS
  if (typeof lease !== 'number' || !Number.isInteger(lease) || lease < TAKEOVER_LEASE_MIN_SECONDS || lease > TAKEOVER_LEASE_MAX_SECONDS) {
    throw new Error(`"leaseSeconds" must be a whole number of seconds from ${TAKEOVER_LEASE_MIN_SECONDS} to ${TAKEOVER_LEASE_MAX_SECONDS}, got ${JSON.stringify(lease)}`)
  }
  return {...parseTakeoverEndRequest(req), leaseSeconds: lease}
}

function instanceList(value: unknown): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) throw new Error('"instances" must be an array of instance names')
  return [...new Set(value as string[])]
}
