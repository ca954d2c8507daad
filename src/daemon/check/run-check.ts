import {dnsCheck} from './dns-check.js'
import {httpCheck} from './http-check.js'
import {miscCheck} from './misc-check.js'
import {pingCheck} from './ping-check.js'
import {smtpCheck} from './smtp-check.js'
import {tcpCheck} from './tcp-check.js'
import {udpCheck} from './udp-check.js'
import type {CheckResult, CheckTarget, CheckerConfig} from './types.js'

/** Runs the checker a real server's config names. Never throws. */
export function runCheck(target: CheckTarget, config: CheckerConfig, signal?: AbortSignal): Promise<CheckResult> {
  switch (config.type) {
    case 'TCP_CHECK': return tcpCheck(target, config, signal)
    case 'HTTP_GET': return httpCheck(target, {...config, ssl: false}, signal)
    case 'SSL_GET': return httpCheck(target, {...config, ssl: true}, signal)
    case 'SMTP_CHECK': return smtpCheck(target, config, signal)
    case 'DNS_CHECK': return dnsCheck(target, config, signal)
    case 'UDP_CHECK': return udpCheck(target, config, signal)
    case 'PING_CHECK': return pingCheck(target, config, signal)
    case 'MISC_CHECK': return miscCheck(target, config, signal)
  }
}

