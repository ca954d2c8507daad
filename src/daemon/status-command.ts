import {parseArgs} from 'node:util'
import type {KaopsdStatus, TakeoverAnswer, TakeoverStatus} from '../model/kaopsd-status.js'
import {askControlSocket} from './control/control-client.js'
import {genhash} from './check/genhash.js'

type Io = {out: (text: string) => void; err: (text: string) => void}

/** `kaopsd status`: asks a running kaopsd over its control socket and prints what it says. */
export async function statusCommand(opts: {controlSocket: string; json: boolean}, io: Io): Promise<number> {
  let status: KaopsdStatus
  try {
    status = (await askControlSocket(opts.controlSocket, 'status')) as KaopsdStatus
  } catch (err) {
    io.err(`kaopsd status: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
  io.out(opts.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status))
  return 0
}

export function formatStatus(s: KaopsdStatus): string {
  const lines = [`kaopsd ${s.version} pid ${s.pid} up ${s.uptimeSeconds}s config ${s.configPath} (${s.configHash.slice(0, 12)})${s.release ? ` release ${s.release}` : ''}`]
  if (s.instances.length > 0) {
    lines.push('', 'INSTANCE         STATE   VRID  IFACE     PRIO  EFF  MASTER           VIPS')
    for (const i of s.instances) {
      lines.push(
        [i.name.padEnd(16), i.state.padEnd(7), String(i.vrid).padEnd(5), i.interface.padEnd(9), String(i.priority).padEnd(5), String(i.effectivePriority).padEnd(4), (i.masterAddress ?? '-').padEnd(16), i.vips.join(',')].join(' '),
      )
    }
  }
  const taken = s.instances.filter((i) => i.takeover)
  if (taken.length > 0) lines.push('', ...taken.map((i) => `${i.name}: ${formatTakeover(i.takeover!)}`))
  for (const vs of s.virtualServers) {
    lines.push('', `${vs.key} ${vs.protocol} via ${vs.backend}${vs.quorumUp ? '' : ' (quorum down)'}`)
    for (const rs of vs.realServers) lines.push(`  ${rs.address}:${rs.port} weight ${rs.weight} ${rs.up ? 'UP' : 'DOWN'}${rs.lastCheck ? ` (${rs.lastCheck.detail})` : ''}`)
  }
  return lines.join('\n') + '\n'
}

function formatTakeover(t: TakeoverStatus): string {
  return `operator takeover, ${t.secondsLeft} s left (until ${t.until})${t.reason ? `: ${t.reason}` : ''}`
}

/**
 * `kaopsd takeover [--end]`: one request over the control socket. The daemon refuses (and we
 * exit 1 with its one-line reason) unless every instance touched ends up MASTER (takeover) or
 * the request could be carried out (end).
 */
export async function takeoverCommand(
  opts: {controlSocket: string; json: boolean; end: boolean; instances: string[]; leaseSeconds: number; reason?: string},
  io: Io,
): Promise<number> {
  const command = opts.end ? 'takeover-end' : 'takeover'
  const request = {
    command,
    instances: opts.instances,
    ...(opts.end ? {} : {leaseSeconds: opts.leaseSeconds}),
    ...(opts.reason ? {reason: opts.reason} : {}),
  }
  let answer: TakeoverAnswer
  try {
    answer = (await askControlSocket(opts.controlSocket, request)) as TakeoverAnswer
  } catch (err) {
    io.err(`kaopsd ${opts.end ? 'takeover --end' : 'takeover'}: ${(err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')}\n`)
    return 1
  }
  io.out(opts.json ? JSON.stringify(answer, null, 2) + '\n' : formatTakeoverAnswer(answer))
  return 0
}

export function formatTakeoverAnswer(a: TakeoverAnswer): string {
  return a.instances
    .map((i) => `${i.name}: ${i.state} at priority ${i.effectivePriority} (configured ${i.priority}), ${i.takeover ? formatTakeover(i.takeover) : 'no takeover'}\n`)
    .join('')
}

/** `kaopsd genhash -s HOST -p PORT -u PATH [-S] [-V VIRTUALHOST]`, as keepalived's genhash. */
export async function genhashCommand(args: string[], io: Io): Promise<number> {
  let values
  try {
    ;({values} = parseArgs({
      args,
      options: {
        server: {type: 'string', short: 's'},
        port: {type: 'string', short: 'p'},
        url: {type: 'string', short: 'u'},
        use_ssl: {type: 'boolean', short: 'S'},
        ssl: {type: 'boolean'},
        use_virtualhost: {type: 'string', short: 'V'},
        timeout: {type: 'string', short: 't'},
      },
      strict: true,
    }))
  } catch (err) {
    io.err(`kaopsd genhash: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
  const port = Number(values.port)
  if (!values.server || !values.url || !Number.isInteger(port) || port < 1 || port > 65535) {
    io.err('Usage: kaopsd genhash -s HOST -p PORT -u PATH [-S] [-V VIRTUALHOST] [-t SECONDS]\n')
    return 1
  }
  try {
    const digest = await genhash(values.server, port, values.url, {
      ssl: Boolean(values.use_ssl || values.ssl),
      ...(values.use_virtualhost ? {virtualhost: values.use_virtualhost} : {}),
      timeoutMs: values.timeout ? Number(values.timeout) * 1000 : 5000,
    })
    io.out(`MD5SUM = ${digest}\n`)
    return 0
  } catch (err) {
    io.err(`kaopsd genhash: ${values.server}:${port}${values.url}: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
}
