import type {GlobalDefs, ScriptCommand, VrrpInstanceConfig} from '../../model/keepalived-config.js'
import type {VrrpStateName} from '../../model/kaopsd-status.js'

/**
 * What the VRRP runtime tells the notifier, and the pure decisions made from it: which scripts
 * run with which arguments, the FIFO line, whether a mail goes out and what it says.
 * No I/O here; notifier.ts carries the decisions out.
 */

export type NotifyKind = 'INSTANCE' | 'GROUP'

export interface TransitionEvent {
  kind: NotifyKind
  /** vrrp_instance or vrrp_sync_group name. */
  name: string
  from: VrrpStateName
  to: VrrpStateName
  /** Effective priority for an instance; keepalived reports 0 for a group. */
  priority: number
  /** Why, as logged: "higher priority advert from 198.18.0.2", "master down timer expired"... */
  reason: string
  at?: Date
}

/** The notify_* fields instances and sync groups share. */
export type NotifyScriptsConfig = Pick<
  VrrpInstanceConfig,
  'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notify' | 'smtpAlert'
>

/** Only these states are announced (keepalived says nothing about INIT). */
export function isAnnounced(state: VrrpStateName): boolean {
  return state === 'MASTER' || state === 'BACKUP' || state === 'FAULT' || state === 'STOP'
}

/** One notify FIFO line, byte for byte as keepalived writes it: `INSTANCE "VI_1" MASTER 100`. */
export function fifoLine(e: TransitionEvent): string {
  return `${e.kind} "${e.name}" ${e.to} ${e.priority}\n`
}

export interface PlannedScript {
  cmd: ScriptCommand
  extraArgs: string[]
}

/**
 * The scripts of a transition, in keepalived's order: the state's own script (notify_master
 * ...), then the generic `notify` with TYPE NAME STATE PRIORITY appended.
 */
export function scriptsFor(e: TransitionEvent, cfg: NotifyScriptsConfig): PlannedScript[] {
  if (!isAnnounced(e.to)) return []
  const own = {MASTER: cfg.notifyMaster, BACKUP: cfg.notifyBackup, FAULT: cfg.notifyFault, STOP: cfg.notifyStop}[
    e.to as 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'
  ]
  const out: PlannedScript[] = []
  if (own) out.push({cmd: own, extraArgs: []})
  if (cfg.notify) out.push({cmd: cfg.notify, extraArgs: [e.kind, e.name, e.to, String(e.priority)]})
  return out
}

/** smtp_alert on the instance/group wins; else global smtp_alert_vrrp, else global smtp_alert. */
export function alertWanted(cfg: NotifyScriptsConfig, g: GlobalDefs): boolean {
  return cfg.smtpAlert ?? g.smtpAlertVrrp ?? g.smtpAlert ?? false
}

export interface AlertMessage {
  from: string
  to: string[]
  subject: string
  text: string
}

const stateWords: Record<string, string> = {
  MASTER: 'now holds the virtual addresses',
  BACKUP: 'no longer holds the virtual addresses',
  FAULT: 'is in FAULT and holds no virtual addresses',
  STOP: 'is stopping',
}

/** The alert mail: router_id, the instance and its new state in the subject; the reason in the body. */
export function alertMessage(e: TransitionEvent, g: GlobalDefs, hostname: string): AlertMessage {
  const routerId = g.routerId ?? hostname
  const what = e.kind === 'GROUP' ? 'VRRP sync group' : 'VRRP instance'
  const at = (e.at ?? new Date()).toISOString()
  const text = [
    `${what} ${e.name} on ${routerId} ${stateWords[e.to] ?? `is ${e.to}`}.`,
    '',
    `  transition: ${e.from} -> ${e.to}`,
    `  reason:     ${e.reason}`,
    `  priority:   ${e.priority}`,
    `  router_id:  ${routerId}`,
    `  host:       ${hostname}`,
    `  time:       ${at}`,
    '',
    '-- kaopsd',
  ].join('\n')
  return {
    from: g.notificationEmailFrom ?? `keepalived@${hostname}`,
    to: g.notificationEmail,
    subject: `[${routerId}] ${what} ${e.name}: ${e.to}`,
    text: text + '\n',
  }
}
