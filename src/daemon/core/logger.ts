/**
 * kaopsd's log: to the console (-l), to syslog with the facility of -S (so an rsyslog rule such
 * as `local0.* /var/log/keepalived.log` keeps working), detailed lines only with -D.
 * Formatting is pure; where the bytes go is a sink passed in.
 */

export const severities = {error: 3, warning: 4, notice: 5, info: 6, debug: 7} as const
export type Severity = keyof typeof severities

export interface LogSink {
  write(severity: Severity, line: string, syslogFrame: string): void
}

export interface LoggerOptions {
  /** Program tag, e.g. "kaopsd_vrrp" (keepalived uses Keepalived_vrrp). */
  tag: string
  /** syslog facility number 0..23; -S N selects local N (16 + N). */
  facility: number
  detail: boolean
  sinks: LogSink[]
  pid?: number
  now?: () => Date
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** An RFC 3164 frame as /dev/log expects it: <PRI>Mmm dd hh:mm:ss tag[pid]: message */
export function syslogFrame(facility: number, severity: Severity, tag: string, pid: number, at: Date, message: string): string {
  const pri = facility * 8 + severities[severity]
  const day = String(at.getDate()).padStart(2, ' ')
  const time = [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
  return `<${pri}>${months[at.getMonth()]} ${day} ${time} ${tag}[${pid}]: ${message}`
}

/** The facility of keepalived's -S option: 0..7 mean local0..local7. */
export function localFacility(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 7) throw new RangeError(`syslog facility must be 0..7, got ${n}`)
  return 16 + n
}

export class Logger {
  constructor(private readonly opts: LoggerOptions) {}

  log(severity: Severity, message: string): void {
    if (severity === 'debug' && !this.opts.detail) return
    const at = (this.opts.now ?? (() => new Date()))()
    const pid = this.opts.pid ?? process.pid
    const line = `${at.toISOString()} ${this.opts.tag}: ${message}`
    const frame = syslogFrame(this.opts.facility, severity, this.opts.tag, pid, at, message)
    for (const sink of this.opts.sinks) {
      try {
        sink.write(severity, line, frame)
      } catch {
        // A broken log sink must never take the daemon down with it.
      }
    }
  }

  error(m: string): void { this.log('error', m) }
  warning(m: string): void { this.log('warning', m) }
  notice(m: string): void { this.log('notice', m) }
  info(m: string): void { this.log('info', m) }
  debug(m: string): void { this.log('debug', m) }

  /** Same sinks and facility, another tag (kaopsd_vrrp, kaopsd_check). */
  withTag(tag: string): Logger {
    return new Logger({...this.opts, tag})
  }
}

export const consoleSink: LogSink = {
  write(_severity, line) {
    process.stdout.write(line + '\n')
  },
}
