import {createHash} from 'node:crypto'
import http from 'node:http'
import https from 'node:https'

/**
 * One HTTP(S) GET, as HTTP_GET/SSL_GET and genhash need it: the status and the MD5 of the body.
 * Certificates are not verified, as keepalived does not: the checker asks "does this server
 * answer", not "is it who it claims to be", and real servers often carry self-signed certs.
 */
export interface FetchRequest {
  host: string
  port: number
  path: string
  ssl: boolean
  /** Host header and TLS server name. */
  virtualhost?: string
  localAddress?: string
  localPort?: number
  signal: AbortSignal
  /** Keep up to this many bytes of the body (for a regex); the MD5 still covers all of it. */
  keepBodyBytes?: number
}

export interface FetchResponse {
  status: number
  md5: string
  bytes: number
  /** The body's first keepBodyBytes bytes, when asked for. */
  body?: Buffer
}

export function fetchDigest(req: FetchRequest): Promise<FetchResponse> {
  return new Promise((resolve, reject) => {
    const hostHeader = req.virtualhost ?? (req.host.includes(':') ? `[${req.host}]:${req.port}` : `${req.host}:${req.port}`)
    const options: https.RequestOptions = {
      host: req.host,
      port: req.port,
      path: req.path,
      method: 'GET',
      headers: {Host: hostHeader, 'User-Agent': 'kaopsd-checker', Connection: 'close'},
      localAddress: req.localAddress,
      localPort: req.localPort,
      agent: false,
      signal: req.signal,
    }
    if (req.ssl) {
      options.rejectUnauthorized = false
      // SNI must be a host name, never an address (RFC 6066).
      if (req.virtualhost) options.servername = req.virtualhost
    }
    const request = (req.ssl ? https : http).request(options, (res) => {
      const hash = createHash('md5')
      let bytes = 0
      const keep = req.keepBodyBytes ?? 0
      const kept: Buffer[] = []
      let keptBytes = 0
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk)
        bytes += chunk.length
        if (keptBytes < keep) {
          const part = chunk.subarray(0, keep - keptBytes)
          kept.push(part)
          keptBytes += part.length
        }
      })
      res.once('end', () => {
        const out: FetchResponse = {status: res.statusCode ?? 0, md5: hash.digest('hex'), bytes}
        if (req.keepBodyBytes !== undefined) out.body = Buffer.concat(kept)
        resolve(out)
      })
      res.once('error', reject)
    })
    request.once('error', reject)
    request.end()
  })
}
