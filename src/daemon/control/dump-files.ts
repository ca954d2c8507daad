import {renameSync, rmSync, writeFileSync} from 'node:fs'
import type {KeepalivedConfig} from '../../model/keepalived-config.js'
import type {KaopsdStatus, VrrpInstanceStatus, VrrpStateName} from '../../model/kaopsd-status.js'

/**
 * keepalived's signal dumps: SIGUSR1 writes the data dump, SIGUSR2 the stats, to the files and
 * in the layout keepalived 2.2 uses (/tmp/keepalived.data, /tmp/keepalived.stats), so scripts
 * and monitoring plugins that parse them keep working. Rendering is pure and from the status
 * snapshot (plus the config for the global section); the stats layout is line for line
 * keepalived's, the data dump carries the fields kaopsd has (keepalived prints its internals too).
 */

export const DEFAULT_DATA_PATH = '/tmp/keepalived.data'
export const DEFAULT_STATS_PATH = '/tmp/keepalived.stats'

/** keepalived's stats dump (SIGUSR2). */
export function renderStats(status: KaopsdStatus): string {
  const out: string[] = []
  for (const i of status.instances) {
    const s = i.stats as typeof i.stats & {advert_interval_err?: number}
    out.push(
      `VRRP Instance: ${i.name}`,
      '  Advertisements:',
      `    Received: ${s.advert_rcvd}`,
      `    Sent: ${s.advert_sent}`,
      `  Became master: ${s.become_master}`,
      `  Released master: ${s.release_master}`,
      '  Packet Errors:',
      `    Length: ${s.packet_len_err}`,
      `    TTL: ${s.ip_ttl_err}`,
      `    Invalid Type: ${s.invalid_type_rcvd}`,
      // Not among the snapshot's counters (format 1): 0 until the runtime reports it.
      `    Advertisement Interval: ${s.advert_interval_err ?? 0}`,
      `    Address List: ${s.addr_list_err}`,
      '  Authentication Errors:',
      `    Invalid Type: ${s.invalid_authtype}`,
      `    Type Mismatch: ${s.authtype_mismatch}`,
      `    Failure: ${s.auth_failure}`,
      '  Priority Zero:',
      `    Received: ${s.pri_zero_rcvd}`,
      `    Sent: ${s.pri_zero_sent}`,
    )
  }
  return out.map((l) => l + '\n').join('')
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** `1795424876.841523 (Mon Nov 23 09:07:56.841523 2026)`, local time, as keepalived prints a timeval. */
export function formatTimeval(at: Date): string {
  const ms = at.getTime()
  const usec = String((ms % 1000) * 1000).padStart(6, '0')
  const p2 = (n: number): string => String(n).padStart(2, '0')
  const human = `${days[at.getDay()]} ${months[at.getMonth()]} ${String(at.getDate()).padStart(2, ' ')} ${p2(at.getHours())}:${p2(at.getMinutes())}:${p2(at.getSeconds())}.${usec} ${at.getFullYear()}`
  return `${Math.floor(ms / 1000)}.${usec} (${human})`
}

/** A sync group's state as keepalived reports it: FAULT if any member is, MASTER if all are. */
export function syncGroupState(members: VrrpInstanceStatus[]): VrrpStateName {
  if (members.some((m) => m.state === 'FAULT')) return 'FAULT'
  if (members.length > 0 && members.every((m) => m.state === 'MASTER')) return 'MASTER'
  if (members.length > 0 && members.every((m) => m.state === 'STOP')) return 'STOP'
  return 'BACKUP'
}

/** keepalived's data dump (SIGUSR1), with what the snapshot and the config know. */
export function renderData(status: KaopsdStatus, config?: KeepalivedConfig): string {
  const out: string[] = ['------< Global definitions >------']
  const g = config?.globalDefs
  if (g?.routerId) out.push(` Router ID = ${g.routerId}`)
  out.push(` kaopsd version = ${status.version}`, ` Configuration file = ${status.configPath}`, ` Configuration hash = ${status.configHash}`)
  if (status.release) out.push(` Release = ${status.release}`)
  out.push(` Uptime = ${Math.floor(status.uptimeSeconds)} secs`)
  if (g) {
    if (g.smtpServer) out.push(` Smtp server = ${g.smtpServer.host}`, ` Smtp server port = ${g.smtpServer.port}`)
    if (g.smtpHeloName) out.push(` Smtp HELO name = ${g.smtpHeloName}`)
    if (g.smtpServer) out.push(` Smtp server connection timeout = ${g.smtpConnectTimeoutMs / 1000}`)
    if (g.notificationEmailFrom) out.push(` Email notification from = ${g.notificationEmailFrom}`)
    if (g.notificationEmail.length) out.push(' Email notification to:', ...g.notificationEmail.map((e) => `   ${e}`))
    out.push(` VRRP IPv4 mcast group = ${g.vrrpMcastGroup4}`, ` VRRP IPv6 mcast group = ${g.vrrpMcastGroup6}`)
    out.push(` VRRP default protocol version = ${g.vrrpVersion}`, ` VRRP strict mode = ${g.vrrpStrict}`)
    out.push(` Script security ${g.enableScriptSecurity ? 'enabled' : 'disabled'}`)
    if (g.metricsListen) out.push(` Metrics listen = ${g.metricsListen.host}:${g.metricsListen.port}`)
  }

  if (status.instances.length) out.push('------< VRRP Topology >------')
  for (const i of status.instances) {
    const cfg = config?.vrrpInstances.find((c) => c.name === i.name)
    out.push(` VRRP Instance = ${i.name}`, `   VRRP Version = ${i.version}`)
    if (i.family === 6) out.push('   Using Native IPv6')
    if (i.syncGroup) out.push(`   Sync group = ${i.syncGroup}`)
    out.push(`   State = ${i.state}`)
    if (i.state === 'BACKUP' && i.masterAddress) out.push(`   Master router = ${i.masterAddress}`)
    if (i.lastTransition) {
      out.push(`   Last transition = ${formatTimeval(new Date(i.lastTransition.at))}`)
      out.push(`   Last transition reason = ${i.lastTransition.reason}`)
    }
    out.push(`   Interface = ${i.interface}`, `   Virtual Router ID = ${i.vrid}`, `   Priority = ${i.priority}`, `   Effective priority = ${i.effectivePriority}`)
    if (cfg) {
      out.push(`   Advert interval = ${i.version === 2 ? `${cfg.advertIntervalMs / 1000} sec` : `${cfg.advertIntervalMs} milli-sec`}`)
      out.push(`   Preempt = ${cfg.nopreempt ? 'disabled' : 'enabled'}`)
      if (cfg.preemptDelayMs) out.push(`   Preempt delay = ${cfg.preemptDelayMs / 1000} secs`)
      out.push(`   Authentication type = ${cfg.authentication ? (cfg.authentication.type === 'AH' ? 'IPSEC_AH' : 'SIMPLE_PASSWORD') : 'none'}`)
    }
    out.push(`   Virtual IP (${i.vips.length}):`, ...i.vips.map((v) => `     ${v} dev ${i.interface}`))
    if (cfg) {
      const scripts: Array<[string, {command: string} | undefined]> = [
        ['Backup state transition script', cfg.notifyBackup], ['Master state transition script', cfg.notifyMaster],
        ['Fault state transition script', cfg.notifyFault], ['Stop state transition script', cfg.notifyStop],
        ['Generic state transition script', cfg.notify],
      ]
      for (const [label, s] of scripts) if (s) out.push(`   ${label} = '${s.command}'`)
      out.push(`   Using smtp notification = ${(cfg.smtpAlert ?? g?.smtpAlertVrrp ?? g?.smtpAlert) ? 'yes' : 'no'}`)
    }
  }

  const groups = [...new Set(status.instances.map((i) => i.syncGroup).filter((n): n is string => !!n))]
  if (groups.length) out.push('------< VRRP Sync groups >------')
  for (const name of groups) {
    const members = status.instances.filter((i) => i.syncGroup === name)
    out.push(` VRRP Sync Group = ${name}, ${syncGroupState(members)}`, '   VRRP member instances :', ...members.map((m) => `     ${m.name}`))
  }

  if (status.virtualServers.length) out.push('------< LVS Topology >------')
  for (const vs of status.virtualServers) {
    out.push(` Virtual server = ${vs.key}`, `   Protocol = ${vs.protocol}`, `   Data plane = ${vs.backend}`, `   Quorum = ${vs.quorumUp ? 'up' : 'down'}`)
    for (const rs of vs.realServers) {
      out.push(`   Real server = ${rs.address}:${rs.port}`, `     Weight = ${rs.weight}`, `     Alive = ${rs.up ? 'yes' : 'no'}`)
      if (rs.lastCheck) out.push(`     Last check = ${formatTimeval(new Date(rs.lastCheck.at))}, ${rs.lastCheck.ok ? 'ok' : 'failed'} in ${rs.lastCheck.latencyMs} ms: ${rs.lastCheck.detail}`)
    }
  }
  return out.map((l) => l + '\n').join('')
}

/**
 * Writes a dump without following whatever a local user may have put at the path in /tmp: a
 * fresh private file (O_EXCL, 0600) renamed over it, which replaces a symlink rather than
 * writing through it.
 */
export function writeDumpFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`
  rmSync(tmp, {force: true})
  try {
    writeFileSync(tmp, text, {mode: 0o600, flag: 'wx'})
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, {force: true})
    throw err
  }
}

export interface DumpSignalOptions {
  getStatus: () => KaopsdStatus | Promise<KaopsdStatus>
  getConfig?: () => KeepalivedConfig | undefined
  dataPath?: string
  statsPath?: string
  log: {info(m: string): void; error(m: string): void}
}

/** Installs the SIGUSR1 (data) and SIGUSR2 (stats) handlers; returns a function removing them. */
export function installDumpSignals(opts: DumpSignalOptions): () => void {
  const dump = (what: 'data' | 'stats'): void => {
    const path = what === 'data' ? (opts.dataPath ?? DEFAULT_DATA_PATH) : (opts.statsPath ?? DEFAULT_STATS_PATH)
    Promise.resolve()
      .then(() => opts.getStatus())
      .then((status) => {
        writeDumpFile(path, what === 'data' ? renderData(status, opts.getConfig?.()) : renderStats(status))
        opts.log.info(`${what} dump written to ${path}`)
      })
      .catch((err: Error) => opts.log.error(`${what} dump to ${path} failed: ${err.message}`))
  }
  const onUsr1 = (): void => dump('data')
  const onUsr2 = (): void => dump('stats')
  process.on('SIGUSR1', onUsr1)
  process.on('SIGUSR2', onUsr2)
  return () => {
    process.off('SIGUSR1', onUsr1)
    process.off('SIGUSR2', onUsr2)
  }
}
