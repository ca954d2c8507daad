import type {Destination, ServiceKey, VirtualService, LbAlgo, LbKind} from '../lb/types.js'

/**
 * A virtual server's health-driven state, pure: which real servers are up, whether quorum
 * holds, and from that the data-plane entries it wants and the scripts to run. The scripts
 * are returned as data; an adapter runs them.
 */

export interface RealServerConfig {
  address: string
  port: number
  weight: number
  inhibitOnFailure: boolean
  /** Per real server alpha (keepalived 2 allows it there too); absent: the virtual server's. */
  alpha?: boolean
  notifyUp?: string
  notifyDown?: string
}

export interface VirtualServerConfig {
  key: ServiceKey
  algo: LbAlgo
  kind: LbKind
  persistenceTimeoutS?: number
  persistencePrefix?: number
  interface?: string
  /** Real servers start down until their first successful check. */
  alpha: boolean
  /** On shutdown, run notify_down / quorum_down for what was up. */
  omega: boolean
  /** Minimum total weight of live real servers (keepalived default 1). */
  quorum: number
  hysteresis: number
  quorumUp?: string
  quorumDown?: string
  sorryServer?: {address: string; port: number; inhibit: boolean}
  realServers: RealServerConfig[]
}

export interface RealServerHealth {
  up: boolean
  /** Set by misc_dynamic; replaces the configured weight while set. */
  weight?: number
}

export interface VirtualServerState {
  /** Keyed by realServerId(). */
  health: Record<string, RealServerHealth>
  quorumUp: boolean
}

export interface Notification {
  event: 'notify_up' | 'notify_down' | 'quorum_up' | 'quorum_down'
  script: string
  /** "address:port" of the real server, for notify_up/down. */
  realServer?: string
}

export interface Transition {
  state: VirtualServerState
  notifications: Notification[]
}

export function realServerId(rs: {address: string; port: number}): string {
  return rs.address.includes(':') ? `[${rs.address}]:${rs.port}` : `${rs.address}:${rs.port}`
}

export function initialState(cfg: VirtualServerConfig): VirtualServerState {
  const health: Record<string, RealServerHealth> = {}
  for (const rs of cfg.realServers) health[realServerId(rs)] = {up: !(rs.alpha ?? cfg.alpha)}
  // Quorum starts from the initial health without running scripts: nothing has changed yet.
  return {health, quorumUp: liveWeight(cfg, health) >= cfg.quorum}
}

/** A checker reported a change for one real server. */
export function applyHealth(cfg: VirtualServerConfig, prev: VirtualServerState, id: string, next: RealServerHealth): Transition {
  const rs = cfg.realServers.find((r) => realServerId(r) === id)
  const before = prev.health[id]
  if (!rs || !before) return {state: prev, notifications: []}
  const health = {...prev.health, [id]: {...next}}
  const notifications: Notification[] = []
  if (before.up !== next.up) {
    const script = next.up ? rs.notifyUp : rs.notifyDown
    if (script) notifications.push({event: next.up ? 'notify_up' : 'notify_down', script, realServer: id})
  }
  const quorumUp = nextQuorum(cfg, prev.quorumUp, liveWeight(cfg, health))
  if (quorumUp !== prev.quorumUp) {
    const script = quorumUp ? cfg.quorumUp : cfg.quorumDown
    if (script) notifications.push({event: quorumUp ? 'quorum_up' : 'quorum_down', script})
  }
  return {state: {health, quorumUp}, notifications}
}

/** omega: what to run when the virtual server is torn down. */
export function shutdownNotifications(cfg: VirtualServerConfig, s: VirtualServerState): Notification[] {
  if (!cfg.omega) return []
  const out: Notification[] = []
  for (const rs of cfg.realServers) {
    if (s.health[realServerId(rs)]?.up && rs.notifyDown) out.push({event: 'notify_down', script: rs.notifyDown, realServer: realServerId(rs)})
  }
  if (s.quorumUp && cfg.quorumDown) out.push({event: 'quorum_down', script: cfg.quorumDown})
  return out
}

/**
 * Hysteresis keeps quorum from flapping: it is lost below quorum-hysteresis and regained only
 * at quorum+hysteresis; in between it stays as it was.
 */
export function nextQuorum(cfg: Pick<VirtualServerConfig, 'quorum' | 'hysteresis'>, wasUp: boolean, weight: number): boolean {
  if (wasUp) return weight >= cfg.quorum - cfg.hysteresis
  return weight >= cfg.quorum + cfg.hysteresis
}

export function liveWeight(cfg: VirtualServerConfig, health: Record<string, RealServerHealth>): number {
  let sum = 0
  for (const rs of cfg.realServers) {
    const h = health[realServerId(rs)]
    if (h?.up) sum += h.weight ?? rs.weight
  }
  return sum
}

/**
 * The data-plane entries this virtual server wants now. Live servers carry their weight; a
 * failed server is removed, or kept at weight 0 with inhibit_on_failure. When quorum is lost
 * and a sorry server exists, the sorry server alone takes new traffic.
 */
export function desiredService(cfg: VirtualServerConfig, s: VirtualServerState): VirtualService {
  const sorryActive = !s.quorumUp && cfg.sorryServer !== undefined
  const destinations: Destination[] = []
  for (const rs of cfg.realServers) {
    const h = s.health[realServerId(rs)]
    const live = h?.up === true && !sorryActive
    if (live) destinations.push({address: rs.address, port: rs.port, weight: h.weight ?? rs.weight})
    else if (rs.inhibitOnFailure) destinations.push({address: rs.address, port: rs.port, weight: 0})
  }
  if (cfg.sorryServer) {
    if (sorryActive) destinations.push({address: cfg.sorryServer.address, port: cfg.sorryServer.port, weight: 1})
    else if (cfg.sorryServer.inhibit) destinations.push({address: cfg.sorryServer.address, port: cfg.sorryServer.port, weight: 0})
  }
  const vs: VirtualService = {key: cfg.key, algo: cfg.algo, kind: cfg.kind, destinations}
  if (cfg.persistenceTimeoutS) vs.persistenceTimeoutS = cfg.persistenceTimeoutS
  if (cfg.persistencePrefix !== undefined) vs.persistencePrefix = cfg.persistencePrefix
  if (cfg.interface) vs.interface = cfg.interface
  return vs
}
