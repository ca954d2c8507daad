import type {
  CheckerCommon,
  CheckerConfig,
  DnsCheckConfig,
  HttpCheckConfig,
  HttpUrlConfig,
  MiscCheckConfig,
  SmtpHostConfig,
} from '../../model/keepalived-config.js'
import {compileBodyRegex} from '../check/body-regex.js'
import type {DiagnosticSink} from './diagnostics.js'
import {runTable, type Handler} from './keyword-table.js'
import type {ConfigNode} from './tree.js'
import {at, expectArgs, expectBlock, parseAddress, parseFlag, parseInteger, parseNotifyCommand, parsePort, parseTimerMs, parseUser} from './values.js'

/** The health checker blocks inside real_server: TCP_CHECK, HTTP_GET, SSL_GET, ... */

export const CHECKER_KEYWORDS = new Set(['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'SMTP_CHECK', 'DNS_CHECK', 'MISC_CHECK', 'UDP_CHECK', 'PING_CHECK'])

/** Values inherited from the real and virtual server, resolved into each checker. */
export interface CheckerDefaults {
  connectTimeoutMs?: number
  retry?: number
  delayBeforeRetryMs?: number
  warmupMs?: number
  delayLoopMs: number
}

function commonHandlers<T extends CheckerCommon>(sink: DiagnosticSink): Record<string, Handler<T>> {
  return {
    connect_ip: (n, c) => {
      const a = parseAddress(sink, n.args[0], n)
      if (a) c.connectIp = a.address
    },
    connect_port: (n, c) => {
      const p = parsePort(sink, n.args[0], n)
      if (p !== undefined) c.connectPort = p
    },
    bindto: (n, c) => {
      const a = parseAddress(sink, n.args[0], n)
      if (a) c.bindTo = a.address
    },
    bind_port: (n, c) => {
      const p = parsePort(sink, n.args[0], n)
      if (p !== undefined) c.bindPort = p
    },
    bind_if: (n, c) => {
      if (expectArgs(sink, n, 1, 1)) c.bindIf = n.args[0]!.text
    },
    fwmark: (n, c) => {
      const v = parseInteger(sink, n.args[0], n, 0, 4294967295)
      if (v !== undefined) c.fwmark = v
    },
    connect_timeout: (n, c) => {
      const v = parseTimerMs(sink, n.args[0], n, {minMs: 1})
      if (v !== undefined) c.connectTimeoutMs = v
    },
    retry: retryHandler(sink),
    nb_get_retry: retryHandler(sink),
    delay_before_retry: (n, c) => {
      const v = parseTimerMs(sink, n.args[0], n)
      if (v !== undefined) c.delayBeforeRetryMs = v
    },
    warmup: (n, c) => {
      const v = parseTimerMs(sink, n.args[0], n)
      if (v !== undefined) c.warmupMs = v
    },
    delay_loop: (n, c) => {
      const v = parseTimerMs(sink, n.args[0], n, {minMs: 1})
      if (v !== undefined) c.delayLoopMs = v
    },
    alpha: (n, c) => {
      c.alpha = parseFlag(sink, n)
    },
    log_all_failures: (n, c) => {
      c.logAllFailures = parseFlag(sink, n)
    },
  }
}

function retryHandler<T extends {retry: number}>(sink: DiagnosticSink): Handler<T> {
  return (n, c) => {
    const v = parseInteger(sink, n.args[0], n, 0, 2147483647)
    if (v !== undefined) c.retry = v
  }
}

function common(node: ConfigNode, d: CheckerDefaults, retryDefault: number, delayBeforeRetryDefault: number): CheckerCommon {
  const c: CheckerCommon = {
    connectTimeoutMs: d.connectTimeoutMs ?? 5000,
    retry: d.retry ?? retryDefault,
    delayBeforeRetryMs: d.delayBeforeRetryMs ?? delayBeforeRetryDefault,
    source: at(node),
  }
  if (d.warmupMs !== undefined) c.warmupMs = d.warmupMs
  return c
}

function parseUrl(sink: DiagnosticSink, node: ConfigNode): HttpUrlConfig | undefined {
  const url: HttpUrlConfig = {path: '', statusCodes: [], regexNoMatch: false, source: at(node)}
  // Where each regex keyword was, so a problem found once all are read names its line.
  let regexAt: ConfigNode | undefined
  let optionsAt: ConfigNode | undefined
  let offsetsAt: ConfigNode | undefined
  runTable(sink, expectBlock(sink, node), {
    block: 'url',
    // regex_stack sizes PCRE2's JIT stack; JavaScript has no such knob.
    ignored: new Set(['regex_stack']),
    handlers: {
      path: (n) => {
        if (expectArgs(sink, n, 1, 1)) url.path = n.args[0]!.text
      },
      digest: (n) => {
        if (!expectArgs(sink, n, 1, 1)) return
        const d = n.args[0]!.text
        if (!/^[0-9a-fA-F]{32}$/.test(d)) sink.error(n.args[0]!, `'digest': '${d}' is not an MD5 digest (32 hex digits; kaopsd genhash prints it)`)
        else url.digest = d.toLowerCase()
      },
      status_code: (n) => {
        if (!expectArgs(sink, n, 1, 100)) return
        for (const t of n.args) {
          const m = /^(\d{3})(?:-(\d{3}))?$/.exec(t.text)
          const lo = m ? Number(m[1]) : NaN
          const hi = m ? Number(m[2] ?? m[1]) : NaN
          if (!m || lo < 100 || hi > 599 || lo > hi) sink.error(t, `'status_code': '${t.text}' is not a status code or range (e.g. 200 or 200-299)`)
          else url.statusCodes.push([lo, hi])
        }
      },
      virtualhost: (n) => {
        if (expectArgs(sink, n, 1, 1)) url.virtualhost = n.args[0]!.text
      },
      regex: (n) => {
        if (!expectArgs(sink, n, 1, 1)) return
        url.regex = n.args[0]!.text
        regexAt = n
      },
      regex_no_match: () => {
        url.regexNoMatch = true
      },
      regex_options: (n) => {
        if (!expectArgs(sink, n, 1, 100)) return
        url.regexOptions = [...(url.regexOptions ?? []), ...n.args.map((a) => a.text)]
        optionsAt = n
      },
      regex_min_offset: (n) => {
        const v = parseInteger(sink, n.args[0], n, 0, 2147483647)
        if (v === undefined) return
        url.regexMinOffset = v
        offsetsAt = n
      },
      regex_max_offset: (n) => {
        const v = parseInteger(sink, n.args[0], n, 0, 2147483647)
        if (v === undefined) return
        url.regexMaxOffset = v
        offsetsAt = n
      },
    },
  }, url)
  if (url.regex !== undefined && regexAt) {
    const r = compileBodyRegex(url.regex, url.regexOptions ?? [], {noMatch: url.regexNoMatch, minOffset: url.regexMinOffset, maxOffset: url.regexMaxOffset})
    if ('error' in r) {
      // Name the line the problem is on: an option, the offsets, or else the pattern itself.
      const where = r.error.startsWith('regex_options') ? optionsAt : r.error.startsWith('regex_max_offset') ? offsetsAt : regexAt
      sink.error(where ?? regexAt, `url ${url.path || '(no path)'}: ${r.error}`)
    }
  } else if (url.regexNoMatch || url.regexOptions || url.regexMinOffset !== undefined || url.regexMaxOffset !== undefined) {
    sink.warning(optionsAt ?? offsetsAt ?? node, "url: regex_no_match, regex_options and the regex offsets mean nothing without 'regex'")
  }
  if (url.path === '') {
    sink.error(node, "url block has no 'path'")
    return undefined
  }
  if (url.statusCodes.length === 0) url.statusCodes.push([200, 299])
  return url
}

const DNS_TYPES = new Set(['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'])

export function parseChecker(sink: DiagnosticSink, node: ConfigNode, d: CheckerDefaults): CheckerConfig | undefined {
  const children = expectBlock(sink, node)
  switch (node.keyword) {
    case 'TCP_CHECK':
    case 'PING_CHECK': {
      const c = {...common(node, d, 1, 1000), type: node.keyword}
      runTable(sink, children, {block: node.keyword, handlers: commonHandlers(sink)}, c)
      return c
    }
    case 'HTTP_GET':
    case 'SSL_GET': {
      const c: HttpCheckConfig = {...common(node, d, 1, 3000), type: node.keyword, urls: [], enableSni: false, fastRecovery: false}
      runTable(sink, children, {
        block: node.keyword,
        handlers: {
          ...commonHandlers<HttpCheckConfig>(sink),
          url: (n) => {
            const u = parseUrl(sink, n)
            if (u) c.urls.push(u)
          },
          virtualhost: (n) => {
            if (expectArgs(sink, n, 1, 1)) c.virtualhost = n.args[0]!.text
          },
          http_protocol: (n) => {
            if (!expectArgs(sink, n, 1, 1)) return
            const p = n.args[0]!.text
            if (!['1.0', '1.0C', '1.1'].includes(p)) sink.error(n.args[0]!, `'http_protocol': '${p}' is not 1.0, 1.0C or 1.1`)
            else c.httpProtocol = p
          },
          enable_sni: () => {
            c.enableSni = true
          },
          fast_recovery: (n) => {
            c.fastRecovery = parseFlag(sink, n)
          },
        },
      }, c)
      if (c.urls.length === 0) sink.error(node, `${node.keyword} has no 'url' block`)
      return c
    }
    case 'SMTP_CHECK': {
      const c = {...common(node, d, 1, 1000), type: 'SMTP_CHECK' as const, hosts: [] as SmtpHostConfig[]} as import('../../model/keepalived-config.js').SmtpCheckConfig
      runTable(sink, children, {
        block: 'SMTP_CHECK',
        handlers: {
          ...commonHandlers<typeof c>(sink),
          helo_name: (n) => {
            if (expectArgs(sink, n, 1, 1)) c.heloName = n.args[0]!.text
          },
          host: (n) => {
            const h: SmtpHostConfig & CheckerCommon = {connectTimeoutMs: c.connectTimeoutMs, retry: 0, delayBeforeRetryMs: 0, source: at(n)}
            runTable(sink, expectBlock(sink, n), {block: 'SMTP_CHECK host', handlers: commonHandlers(sink)}, h)
            const host: SmtpHostConfig = {source: at(n)}
            if (h.connectIp) host.connectIp = h.connectIp
            if (h.connectPort !== undefined) host.connectPort = h.connectPort
            if (h.bindTo) host.bindTo = h.bindTo
            if (h.bindPort !== undefined) host.bindPort = h.bindPort
            if (h.bindIf) host.bindIf = h.bindIf
            if (h.connectTimeoutMs !== c.connectTimeoutMs) host.connectTimeoutMs = h.connectTimeoutMs
            c.hosts.push(host)
          },
        },
      }, c)
      return c
    }
    case 'DNS_CHECK': {
      const c: DnsCheckConfig = {...common(node, d, 3, d.delayLoopMs), type: 'DNS_CHECK', queryType: 'SOA', name: '.'}
      runTable(sink, children, {
        block: 'DNS_CHECK',
        handlers: {
          ...commonHandlers<DnsCheckConfig>(sink),
          type: (n) => {
            const t = n.args[0]?.text.toUpperCase()
            if (t && DNS_TYPES.has(t)) c.queryType = t as DnsCheckConfig['queryType']
            else sink.error(n, `DNS_CHECK: type '${n.args[0]?.text ?? ''}' is not one of ${[...DNS_TYPES].join('|')}`)
          },
          name: (n) => {
            if (expectArgs(sink, n, 1, 1)) c.name = n.args[0]!.text
          },
        },
      }, c)
      return c
    }
    case 'UDP_CHECK': {
      const c = {...common(node, d, 1, 1000), type: 'UDP_CHECK' as const, minReplyLength: 0, maxReplyLength: 255} as import('../../model/keepalived-config.js').UdpCheckConfig
      const hex = (n: ConfigNode): string | undefined => {
        const text = n.args.map((t) => t.text).join(' ')
        if (!/^[0-9a-fA-FxX\s]*$/.test(text)) {
          sink.error(n, `'${n.keyword}': '${text}' is not a hex string`)
          return undefined
        }
        return text
      }
      runTable(sink, children, {
        block: 'UDP_CHECK',
        handlers: {
          ...commonHandlers<typeof c>(sink),
          payload: (n) => {
            const h = hex(n)
            if (h !== undefined) c.payload = h
          },
          require_reply: (n) => {
            const h = hex(n)
            if (h !== undefined) c.requireReply = h
          },
          min_reply_length: (n) => {
            const v = parseInteger(sink, n.args[0], n, 0, 65535)
            if (v !== undefined) c.minReplyLength = v
          },
          max_reply_length: (n) => {
            const v = parseInteger(sink, n.args[0], n, 0, 65535)
            if (v !== undefined) c.maxReplyLength = v
          },
        },
      }, c)
      return c
    }
    case 'MISC_CHECK': {
      const c: MiscCheckConfig = {
        type: 'MISC_CHECK',
        miscDynamic: false,
        retry: d.retry ?? 0,
        delayBeforeRetryMs: d.delayBeforeRetryMs ?? 1000,
        source: at(node),
      }
      if (d.warmupMs !== undefined) c.warmupMs = d.warmupMs
      runTable(sink, children, {
        block: 'MISC_CHECK',
        handlers: {
          misc_path: (n) => {
            const s = parseNotifyCommand(sink, n)
            if (s) c.miscPath = s
          },
          misc_timeout: (n) => {
            const v = parseTimerMs(sink, n.args[0], n, {minMs: 1})
            if (v !== undefined) c.miscTimeoutMs = v
          },
          misc_dynamic: () => {
            c.miscDynamic = true
          },
          user: (n) => {
            const u = parseUser(sink, n)
            if (u) c.user = u
          },
          retry: retryHandler(sink),
          nb_get_retry: retryHandler(sink),
          delay_before_retry: (n) => {
            const v = parseTimerMs(sink, n.args[0], n)
            if (v !== undefined) c.delayBeforeRetryMs = v
          },
          warmup: (n) => {
            const v = parseTimerMs(sink, n.args[0], n)
            if (v !== undefined) c.warmupMs = v
          },
          delay_loop: (n) => {
            const v = parseTimerMs(sink, n.args[0], n, {minMs: 1})
            if (v !== undefined) c.delayLoopMs = v
          },
          alpha: (n) => {
            c.alpha = parseFlag(sink, n)
          },
        },
      }, c)
      if (!c.miscPath) sink.error(node, "MISC_CHECK has no 'misc_path'")
      return c
    }
    default:
      return undefined
  }
}
