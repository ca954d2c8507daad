import type {LogSink} from '../core/logger.js'
import {loadNative} from './native.js'

/**
 * The Logger sink that hands RFC 3164 frames to the local syslog daemon through /dev/log, a unix
 * datagram socket (Node has none, so the send is the addon's unixDgramSend). Each frame is one
 * datagram; the facility is already in the frame's <PRI>, so the rsyslog rule of the seeds
 * (`local0.* /var/log/keepalived.log`) matches what -S 0 selects.
 *
 * Writing never throws and never blocks: with syslog down or its queue full a line is dropped,
 * and the first drop after a good send is reported once through `onDrop` (stderr by default),
 * so a dead syslog neither floods the console nor goes unnoticed.
 */

export const DEFAULT_SYSLOG_PATH = '/dev/log'

/** The one call of the addon this sink uses (native/kaops_raw.c: unixDgramSend). */
export type DatagramSend = (path: string, data: Buffer) => number

export interface SyslogSinkOptions {
  /** Socket path; /dev/log unless a test points it elsewhere. */
  path?: string
  /** Replaces the addon (tests of the drop logic); defaults to the addon's unixDgramSend. */
  send?: DatagramSend
  /** Told about the first failure after a success (or at start). */
  onDrop?: (message: string) => void
}

export function addonDatagramSend(): DatagramSend {
  const addon = loadNative() as ReturnType<typeof loadNative> & {unixDgramSend?: DatagramSend}
  const send = addon.unixDgramSend
  if (typeof send !== 'function') throw new Error('the native addon has no unixDgramSend (rebuild it: node scripts/build-kaopsd.mjs --addon-only)')
  return send.bind(addon)
}

export function syslogSink(opts: SyslogSinkOptions = {}): LogSink {
  const path = opts.path ?? DEFAULT_SYSLOG_PATH
  const onDrop = opts.onDrop ?? ((m: string) => process.stderr.write(`kaopsd: ${m}\n`))
  let send: DatagramSend | undefined = opts.send
  let healthy = true
  return {
    write(_severity, _line, frame) {
      try {
        send ??= addonDatagramSend()
        send(path, Buffer.from(frame, 'utf8'))
        healthy = true
      } catch (err) {
        if (healthy) onDrop(`syslog ${path}: ${(err as Error).message}; dropping log lines until it works again`)
        healthy = false
      }
    },
  }
}
