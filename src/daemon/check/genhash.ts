import {fetchDigest} from './http-fetch.js'

/**
 * What `kaopsd genhash` prints: the MD5 (lower-case hex) of the body HTTP_GET/SSL_GET's
 * `digest` expects. The command line around it lives with the daemon's commands.
 */
export async function genhash(
  host: string,
  port: number,
  path: string,
  opts: {ssl?: boolean; virtualhost?: string; timeoutMs?: number} = {},
): Promise<string> {
  const res = await fetchDigest({
    host, port, path, ssl: opts.ssl ?? false, virtualhost: opts.virtualhost,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
  })
  return res.md5
}
