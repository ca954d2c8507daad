import {hostname as osHostname} from 'node:os'
import type {KeepalivedConfig, NotifyFifoConfig} from '../../model/keepalived-config.js'
import type {VrrpStateName} from '../../model/kaopsd-status.js'
import type {ScriptResult, ScriptRunner} from '../os/script-runner.js'
import {alertMessage, alertWanted, fifoLine, isAnnounced, scriptsFor, type NotifyScriptsConfig, type TransitionEvent} from './events.js'
import {NotifyFifo} from './fifo.js'
import {SmtpAlerter, type NotifyLog} from './mailer.js'

export interface NotifierOptions {
  config: KeepalivedConfig
  runner: ScriptRunner
  log: NotifyLog
  /** For the mail's default sender and router_id; os.hostname() by default. */
  hostname?: string
  /** Timeout of each notify script; default 30 s. */
  scriptTimeoutMs?: number
  /** Replaces the nodemailer alerter (the SMTP settings come from global_defs otherwise). */
  alerter?: Pick<SmtpAlerter, 'send' | 'idle' | 'close'>
}

/**
 * Carries out what a VRRP transition means to the outside world, in keepalived's order: the
 * state's notify script, the generic `notify`, the FIFO lines, the smtp_alert mail.
 *
 * notify() never waits: scripts go on a per-instance queue (in order, never two at once for one
 * instance or group, each with a timeout), FIFO writes cannot block, and mail is fire and forget.
 */
export class Notifier {
  private readonly fifos = new Map<string, NotifyFifo>()
  private readonly alerter: Pick<SmtpAlerter, 'send' | 'idle' | 'close'> | undefined
  private readonly hostname: string
  /** keepalived mails a state once, not again when the same state is announced twice. */
  private readonly lastMailed = new Map<string, VrrpStateName>()
  private readonly running = new Set<Promise<ScriptResult>>()
  private started = false

  constructor(private readonly opts: NotifierOptions) {
    this.hostname = opts.hostname ?? osHostname()
    const g = opts.config.globalDefs
    if (opts.alerter) this.alerter = opts.alerter
    else if (g.smtpServer && g.notificationEmail.length > 0) {
      this.alerter = new SmtpAlerter({
        host: g.smtpServer.host,
        port: g.smtpServer.port,
        connectTimeoutMs: g.smtpConnectTimeoutMs,
        ...(g.smtpHeloName ? {heloName: g.smtpHeloName} : {}),
        log: opts.log,
      })
    }
  }

  /** Creates and opens the FIFOs and starts their `_script` readers. Call once, before notify(). */
  start(): void {
    if (this.started) return
    this.started = true
    const g = this.opts.config.globalDefs
    this.addFifo(g.notifyFifo, 'notify_fifo')
    this.addFifo(g.vrrpNotifyFifo, 'vrrp_notify_fifo')
    for (const i of this.opts.config.vrrpInstances) this.addFifo(i.notifyFifo, `(${i.name}) notify_fifo`)
    for (const s of this.opts.config.vrrpSyncGroups) this.addFifo(s.notifyFifo, `sync group ${s.name} notify_fifo`)
  }

  notify(e: TransitionEvent): void {
    if (!isAnnounced(e.to)) return
    const cfg = this.configOf(e)
    if (!cfg) {
      this.opts.log.warning(`notify: no ${e.kind === 'GROUP' ? 'vrrp_sync_group' : 'vrrp_instance'} named ${e.name}`)
      return
    }
    const key = `${e.kind}:${e.name}`
    for (const s of scriptsFor(e, cfg)) {
      const job = this.opts.runner.enqueue(key, s.cmd, {extraArgs: s.extraArgs, timeoutMs: this.opts.scriptTimeoutMs ?? 30_000})
      this.running.add(job)
      void job.finally(() => this.running.delete(job))
    }
    const line = fifoLine(e)
    for (const fifo of this.fifosFor(e)) fifo.write(line)
    this.mail(e, cfg)
  }

  /** Every queued script finished and every mail delivered or given up. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
    await this.alerter?.idle()
  }

  /**
   * After the STOP notifications: waits for the scripts still queued (each has its timeout),
   * gives mail `mailGraceMs` to leave, stops the FIFO readers and removes FIFOs we created.
   */
  async stop(mailGraceMs = 2000): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
    if (this.alerter) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([this.alerter.idle(), new Promise((r) => (timer = setTimeout(r, mailGraceMs)))])
      clearTimeout(timer)
      this.alerter.close()
    }
    await Promise.all([...this.fifos.values()].map((f) => f.close()))
    this.fifos.clear()
  }

  private configOf(e: TransitionEvent): NotifyScriptsConfig | undefined {
    const c = this.opts.config
    return e.kind === 'GROUP' ? c.vrrpSyncGroups.find((s) => s.name === e.name) : c.vrrpInstances.find((i) => i.name === e.name)
  }

  private fifosFor(e: TransitionEvent): NotifyFifo[] {
    const g = this.opts.config.globalDefs
    const own = e.kind === 'GROUP'
      ? this.opts.config.vrrpSyncGroups.find((s) => s.name === e.name)?.notifyFifo
      : this.opts.config.vrrpInstances.find((i) => i.name === e.name)?.notifyFifo
    const paths = new Set([g.notifyFifo?.path, g.vrrpNotifyFifo?.path, own?.path].filter((p): p is string => !!p))
    return [...paths].map((p) => this.fifos.get(p)).filter((f): f is NotifyFifo => !!f)
  }

  private addFifo(cfg: NotifyFifoConfig | undefined, label: string): void {
    // One FIFO per path, even when several keywords name it: one line per transition.
    if (!cfg || this.fifos.has(cfg.path)) return
    const fifo = new NotifyFifo(cfg, label, this.opts.runner, this.opts.log)
    if (fifo.open()) this.fifos.set(cfg.path, fifo)
  }

  private mail(e: TransitionEvent, cfg: NotifyScriptsConfig): void {
    const g = this.opts.config.globalDefs
    if (!this.alerter || !alertWanted(cfg, g)) return
    const key = `${e.kind}:${e.name}`
    if (this.lastMailed.get(key) === e.to) return
    this.lastMailed.set(key, e.to)
    this.alerter.send(alertMessage(e, g, this.hostname))
  }
}
