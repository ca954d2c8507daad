import {abortReason, deadline, endpoint, settle} from './outcome.js'
import {judgeBody, REGEX_BODY_LIMIT} from './body-regex.js'
import {fetchDigest} from './http-fetch.js'
import type {Checker, HttpCheckOptions, StatusCodeRange} from './types.js'

/**
 * Parses keepalived's `status_code` arguments: single codes and ranges ("200-299 301").
 * Throws on anything else, so the config check can name the bad value.
 */
export function parseStatusCodes(words: readonly string[]): StatusCodeRange[] {
  return words.map((w) => {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(w)
    if (!m) throw new Error(`status_code: "${w}" is neither a code (200) nor a range (200-299)`)
    const from = Number(m[1])
    const to = m[2] === undefined ? from : Number(m[2])
    if (from < 100 || to > 599 || to < from) throw new Error(`status_code: "${w}" is outside 100-599 or reversed`)
    return {from, to}
  })
}

export function statusAccepted(status: number, ranges: readonly StatusCodeRange[] | undefined): boolean {
  if (!ranges || ranges.length === 0) return status >= 200 && status <= 299
  return ranges.some((r) => status >= r.from && status <= r.to)
}

/**
 * HTTP_GET and SSL_GET: every url must answer with an accepted status and, when a digest is
 * set, a body whose MD5 matches, and, when a regex is set, a body the regex is found in (or,
 * with regex_no_match, not found in). connect_timeout bounds the whole exchange of each url.
 */
export const httpCheck: Checker<HttpCheckOptions> = (target, o, signal) =>
  settle(async () => {
    const {host, port} = endpoint(target, o)
    const scheme = o.ssl ? 'https' : 'http'
    if (o.urls.length === 0) return {ok: false, detail: `${scheme}: no url to check`}
    for (const url of o.urls) {
      const sig = deadline(o.connectTimeoutMs, signal)
      const where = `${scheme}://${host}:${port}${url.path}`
      let res
      try {
        res = await fetchDigest({
          host, port, path: url.path, ssl: o.ssl, virtualhost: url.virtualhost ?? o.virtualhost,
          localAddress: o.bindTo, localPort: o.bindPort, signal: sig,
          ...(url.regex ? {keepBodyBytes: REGEX_BODY_LIMIT} : {}),
        })
      } catch (err) {
        const why = sig.aborted ? abortReason(sig, o.connectTimeoutMs) : (err as NodeJS.ErrnoException).code ?? (err as Error).message
        return {ok: false, detail: `${where}: ${why}`}
      }
      if (!statusAccepted(res.status, url.statusCodes)) return {ok: false, detail: `${where}: status ${res.status} not accepted`}
      if (url.digest !== undefined && url.digest.toLowerCase() !== res.md5) {
        return {ok: false, detail: `${where}: digest ${res.md5} != expected ${url.digest.toLowerCase()}`}
      }
      if (url.regex) {
        const v = judgeBody(url.regex, res.body ?? Buffer.alloc(0))
        if (!v.ok) return {ok: false, detail: `${where}: ${v.detail}`}
      }
    }
    return {ok: true, detail: `${scheme}://${host}:${port}: ${o.urls.length} url(s) ok`}
  })
