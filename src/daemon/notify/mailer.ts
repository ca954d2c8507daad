import nodemailer from 'nodemailer'
import type {AlertMessage} from './events.js'

/** The part of the daemon's Logger the notifier uses. */
export interface NotifyLog {
  error(m: string): void
  warning(m: string): void
  info(m: string): void
  debug(m: string): void
}

export interface SmtpAlerterOptions {
  host: string
  port: number
  /** smtp_connect_timeout: connect, greeting and each reply. */
  connectTimeoutMs: number
  /** smtp_helo_name; nodemailer's default (the host name) otherwise. */
  heloName?: string
  log: NotifyLog
}

/**
 * smtp_alert through nodemailer, fire and forget: send() returns at once, the mail goes out in
 * the background with smtp_connect_timeout on every step and an overall deadline, and a failure
 * is a log line, never an exception or a delay for the state machine. Plain SMTP as keepalived
 * speaks it (ignoreTLS): relays on a management network often offer STARTTLS with a certificate
 * nobody can verify, and an alert that fails on that is worse than one sent in clear.
 */
export class SmtpAlerter {
  private readonly pending = new Set<Promise<void>>()
  private readonly transport: nodemailer.Transporter

  constructor(private readonly opts: SmtpAlerterOptions) {
    this.transport = nodemailer.createTransport({
      host: opts.host,
      port: opts.port,
      secure: false,
      ignoreTLS: true,
      connectionTimeout: opts.connectTimeoutMs,
      greetingTimeout: opts.connectTimeoutMs,
      socketTimeout: opts.connectTimeoutMs,
      ...(opts.heloName ? {name: opts.heloName} : {}),
    })
  }

  send(msg: AlertMessage): void {
    const server = `${this.opts.host}:${this.opts.port}`
    // Connect + greeting + a handful of replies, each bounded by the timeout: beyond this the
    // server is not going to answer, whatever state the transport thinks it is in.
    const deadlineMs = this.opts.connectTimeoutMs * 4
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs)
      timer.unref()
    })
    const job = Promise.race([
      this.transport.sendMail({from: msg.from, to: msg.to, subject: msg.subject, text: msg.text}),
      deadline,
    ])
      .then(
        () => this.opts.log.info(`smtp_alert '${msg.subject}' sent to ${msg.to.join(', ')} via ${server}`),
        (err: Error) => this.opts.log.error(`smtp_alert '${msg.subject}' via ${server} failed: ${err.message}`),
      )
      .finally(() => {
        clearTimeout(timer)
        this.pending.delete(job)
      })
    this.pending.add(job)
  }

  /** Resolves when every mail sent so far has been delivered or given up (stop, tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }

  close(): void {
    this.transport.close()
  }
}
