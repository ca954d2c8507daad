import type {BodyRegex} from './body-regex.js'

/**
 * The health checkers' own narrow input types. The keepalived.conf model (another module) is
 * mapped onto these by a later step, so the checkers never depend on the parser's shapes.
 * Times are milliseconds; keepalived's seconds are converted by that mapping.
 */

/** The real server a checker probes (before connect_ip/connect_port overrides). */
export interface CheckTarget {
  address: string
  port: number
}

/** What every checker reports. `weight` is only set by MISC_CHECK with misc_dynamic. */
export interface CheckResult {
  ok: boolean
  latencyMs: number
  detail: string
  weight?: number
}

/** connect_ip, connect_port, bindto, bind_port and connect_timeout, shared by the socket checkers. */
export interface ConnectOptions {
  connectIp?: string
  connectPort?: number
  bindTo?: string
  bindPort?: number
  connectTimeoutMs: number
}

export interface TcpCheckOptions extends ConnectOptions {}

/** One `url { ... }` block of HTTP_GET/SSL_GET. */
export interface UrlCheck {
  path: string
  /** MD5 of the body, lower-case hex (what `genhash` prints). */
  digest?: string
  /** `status_code` values and ranges, e.g. "200-299 301"; absent: any 2xx. */
  statusCodes?: StatusCodeRange[]
  /** Per-url virtualhost; overrides the checker's. */
  virtualhost?: string
  /** `regex` and its companions: searched for in the body after status and digest pass. */
  regex?: BodyRegex
}

export interface StatusCodeRange {
  from: number
  to: number
}

export interface HttpCheckOptions extends ConnectOptions {
  ssl: boolean
  urls: UrlCheck[]
  /** Host header and, for SSL_GET, the TLS server name. */
  virtualhost?: string
}

export interface SmtpCheckOptions extends ConnectOptions {
  /** The name sent in HELO; keepalived defaults it to the local host name. */
  heloName: string
}

export interface DnsCheckOptions extends ConnectOptions {
  /**
   * A record type name such as A, AAAA, MX, or a number. Not `type`: that is the checker's
   * kind in CheckerConfig, and the two would collapse into one field.
   */
  queryType: string
  name: string
}

export interface UdpCheckOptions extends ConnectOptions {
  /** Bytes sent in the datagram (keepalived's `payload`, hex in the config). */
  payload: Uint8Array
  /** When true a reply must arrive within connect_timeout; otherwise only an ICMP error fails. */
  requireReply: boolean
  /** When set, the reply must start with these bytes. */
  expectedReply?: Uint8Array
}

export interface PingCheckOptions extends ConnectOptions {}

export interface MiscCheckOptions {
  /** The command line of misc_path, run by /bin/sh. */
  miscPath: string
  miscTimeoutMs: number
  /** misc_dynamic: exit 2..255 means up with weight exit-2. */
  dynamic: boolean
}

export type CheckerConfig =
  | ({type: 'TCP_CHECK'} & TcpCheckOptions)
  | ({type: 'HTTP_GET' | 'SSL_GET'} & Omit<HttpCheckOptions, 'ssl'>)
  | ({type: 'SMTP_CHECK'} & SmtpCheckOptions)
  | ({type: 'DNS_CHECK'} & DnsCheckOptions)
  | ({type: 'UDP_CHECK'} & UdpCheckOptions)
  | ({type: 'PING_CHECK'} & PingCheckOptions)
  | ({type: 'MISC_CHECK'} & MiscCheckOptions)

/** Every checker has this shape and never throws: failures are results. */
export type Checker<O> = (target: CheckTarget, options: O, signal?: AbortSignal) => Promise<CheckResult>

/** The scheduling knobs of one real server's checker (keepalived's defaults noted). */
export interface CheckSchedule {
  /** delay_loop (keepalived default 60 s). */
  delayLoopMs: number
  /** retry / nb_get_retry: extra attempts before declaring the server down. */
  retry: number
  /** delay_before_retry between those attempts. */
  delayBeforeRetryMs: number
  /** warmup: the first check waits a random time up to this. */
  warmupMs: number
  /** alpha: the server starts down and must pass a check first. */
  alpha: boolean
}
