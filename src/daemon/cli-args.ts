import {parseArgs} from 'node:util'
import {TAKEOVER_DEFAULT_LEASE_SECONDS, TAKEOVER_LEASE_MAX_SECONDS, TAKEOVER_LEASE_MIN_SECONDS} from './control/takeover-request.js'

/**
 * kaopsd's command line, parsed into data: keepalived 2.2's own flags (so existing unit files,
 * /etc/default/keepalived and habits keep working) plus --control-socket, and the subcommands
 * `status`, `takeover` and `genhash`. Pure: no I/O, no process.exit; bad input throws UsageError.
 */

export const DEFAULT_CONFIG_FILE = '/etc/keepalived/keepalived.conf'
export const DEFAULT_CONTROL_SOCKET = '/run/kaopsd/control.sock'
/** syslog's LOG_DAEMON, keepalived's default facility. */
export const FACILITY_DAEMON = 3

export class UsageError extends Error {
  override name = 'UsageError'
}

/** What running the daemon needs to know from the command line. */
export interface DaemonOptions {
  configFile: string
  /** -i: the id `@id` / `@^id` config lines are matched against; default: the host name. */
  configId?: string
  /** -n: stay in the foreground (kaopsd never forks; accepted for compatibility). */
  foreground: boolean
  /** -l: log to the console as well. */
  logConsole: boolean
  /** -D: detailed log. */
  logDetail: boolean
  /** syslog facility number (LOG_DAEMON = 3, local0..7 = 16..23), from -S. */
  logFacility: number
  /** -G: no syslog. */
  noSyslog: boolean
  pidFile?: string
  /** -P: VRRP only. */
  vrrpOnly: boolean
  /** -C: health checkers only. */
  checkOnly: boolean
  /** -V: leave VIPs and virtual routes in place on stop. */
  dontReleaseVrrp: boolean
  /** -I: leave the IPVS topology in place on stop. */
  dontReleaseIpvs: boolean
  controlSocket: string
}

export type KaopsdCommand =
  | {kind: 'help'; text: string}
  | {kind: 'version'}
  /** -t: check the file and exit; messages to stderr, or to logFile with --config-test=FILE. */
  | {kind: 'config-test'; options: DaemonOptions; logFile?: string}
  /** -d: print the parsed configuration and exit. */
  | {kind: 'dump-config'; options: DaemonOptions; json: boolean}
  | {kind: 'run'; options: DaemonOptions}
  | {kind: 'status'; controlSocket: string; json: boolean}
  /** Ask the running kaopsd to take mastership for a lease (or, with end, to give the lease up). */
  | {kind: 'takeover'; controlSocket: string; json: boolean; end: boolean; instances: string[]; leaseSeconds: number; reason?: string}
  | {kind: 'genhash'; args: string[]}
  /** Loads the native addon and asks the kernel about an interface: "does this binary work here?" */
  | {kind: 'self-test'; iface: string}

export const daemonUsage = `Usage: kaopsd [OPTION...]
       kaopsd status [--control-socket PATH] [--json]
       kaopsd takeover [--instance NAME]... [--lease SECONDS] [--reason TEXT] [--control-socket PATH] [--json]
       kaopsd takeover --end [--instance NAME]... [--control-socket PATH] [--json]
       kaopsd genhash [GENHASH OPTION...]
       kaopsd self-test [INTERFACE]   (load the native addon, look up INTERFACE, default lo)

A keepalived-compatible VRRP and health-check daemon; reads keepalived.conf.

  -f, --use-file=FILE          configuration file (default ${DEFAULT_CONFIG_FILE})
  -P, --vrrp                   run the VRRP subsystem only
  -C, --check                  run the health checkers only
  -l, --log-console            log to the console too
  -D, --log-detail             detailed log messages
  -S, --log-facility=N         syslog facility: 0-7 (local0-7), localN, user or daemon (default)
  -G, --no-syslog              do not log to syslog
  -V, --dont-release-vrrp      keep VIPs and virtual routes on stop
  -I, --dont-release-ipvs      keep the IPVS topology on stop
  -n, --dont-fork              run in the foreground (kaopsd never forks; accepted)
  -R, --dont-respawn           accepted for compatibility (kaopsd has no child processes)
  -d, --dump-conf              print the parsed configuration and exit (--json: as JSON)
  -p, --pid=FILE               pid file
  -i, --config-id=ID           match @ID / @^ID configuration lines against ID (default: host name)
  -t, --config-test[=FILE]     check the configuration and exit, messages to stderr or FILE
  -T, --genhash                genhash mode (as the first option), same as \`kaopsd genhash\`
      --control-socket=PATH    control socket for \`kaopsd status\` and \`kaopsd takeover\` (default ${DEFAULT_CONTROL_SOCKET})
      --json                   with -d: JSON output
  -v, --version                print the version and exit
  -h, --help                   print this help and exit
`

export const statusUsage = `Usage: kaopsd status [--control-socket PATH] [--json]

Reports each VRRP instance of a running kaopsd: state, priority, VIPs, master, counters.
`

export const takeoverUsage = `Usage: kaopsd takeover [--instance NAME]... [--lease SECONDS] [--reason TEXT] [--control-socket PATH] [--json]
       kaopsd takeover --end [--instance NAME]... [--reason TEXT] [--control-socket PATH] [--json]

Asks the running kaopsd to become MASTER of its VRRP instances now, before its peer is
restarted: priority 254 for the lease (default ${TAKEOVER_DEFAULT_LEASE_SECONDS} s, ${TAKEOVER_LEASE_MIN_SECONDS}..${TAKEOVER_LEASE_MAX_SECONDS}), VIPs added before the old master
hears of it, so they are never unheld. Again renews the lease. --end (or the lease running out)
goes back to the configured priority; a preempting peer with a higher priority then takes the
VIPs back. No --instance: every instance; members of a sync group move together.
Exit 0 when every instance is MASTER (--end: when the takeover is over), 1 otherwise.
`

const daemonOptionSpec = {
  'use-file': {type: 'string', short: 'f'},
  vrrp: {type: 'boolean', short: 'P'},
  check: {type: 'boolean', short: 'C'},
  'log-console': {type: 'boolean', short: 'l'},
  'log-detail': {type: 'boolean', short: 'D'},
  'log-facility': {type: 'string', short: 'S'},
  'no-syslog': {type: 'boolean', short: 'G'},
  'dont-release-vrrp': {type: 'boolean', short: 'V'},
  'dont-release-ipvs': {type: 'boolean', short: 'I'},
  'dont-fork': {type: 'boolean', short: 'n'},
  'dont-respawn': {type: 'boolean', short: 'R'},
  'dump-conf': {type: 'boolean', short: 'd'},
  pid: {type: 'string', short: 'p'},
  'config-id': {type: 'string', short: 'i'},
  'config-test': {type: 'boolean', short: 't'},
  'control-socket': {type: 'string'},
  json: {type: 'boolean'},
  version: {type: 'boolean', short: 'v'},
  help: {type: 'boolean', short: 'h'},
} as const

export function parseKaopsdArgs(argv: readonly string[]): KaopsdCommand {
  const first = argv[0]
  if (first === 'status') return parseStatus(argv.slice(1))
  if (first === 'takeover') return parseTakeover(argv.slice(1))
  if (first === 'genhash') return {kind: 'genhash', args: argv.slice(1)}
  if (first === 'self-test') {
    if (argv.length > 2) throw new UsageError('usage: kaopsd self-test [INTERFACE]')
    return {kind: 'self-test', iface: argv[1] ?? 'lo'}
  }
  // keepalived: "-T ... should be the first option used"; everything after it is genhash's.
  if (first === '-T' || first === '--genhash') return {kind: 'genhash', args: argv.slice(1)}

  // --config-test takes an optional value, which parseArgs cannot express: peel it off first.
  let configTestLog: string | undefined
  const rest: string[] = []
  for (const [i, arg] of argv.entries()) {
    if (arg === '--') {
      rest.push(...argv.slice(i))
      break
    }
    const m = /^--config-test=(.*)$/.exec(arg)
    if (m) {
      if (m[1] === '') throw new UsageError('--config-test=FILE needs a file name')
      configTestLog = m[1]
      rest.push('--config-test')
    } else {
      rest.push(arg)
    }
  }

  const {values} = strictParse(rest, daemonOptionSpec, 'kaopsd --help')
  if (values.help) return {kind: 'help', text: daemonUsage}
  if (values.version) return {kind: 'version'}

  const options: DaemonOptions = {
    configFile: nonEmpty(values['use-file'], '-f/--use-file') ?? DEFAULT_CONFIG_FILE,
    foreground: values['dont-fork'] ?? false,
    logConsole: values['log-console'] ?? false,
    logDetail: values['log-detail'] ?? false,
    logFacility: values['log-facility'] === undefined ? FACILITY_DAEMON : parseFacility(values['log-facility']),
    noSyslog: values['no-syslog'] ?? false,
    vrrpOnly: values.vrrp ?? false,
    checkOnly: values.check ?? false,
    dontReleaseVrrp: values['dont-release-vrrp'] ?? false,
    dontReleaseIpvs: values['dont-release-ipvs'] ?? false,
    controlSocket: nonEmpty(values['control-socket'], '--control-socket') ?? DEFAULT_CONTROL_SOCKET,
  }
  const pidFile = nonEmpty(values.pid, '-p/--pid')
  if (pidFile !== undefined) options.pidFile = pidFile
  const configId = nonEmpty(values['config-id'], '-i/--config-id')
  if (configId !== undefined) options.configId = configId

  const json = values.json ?? false
  if (values['config-test']) {
    if (json) throw new UsageError('--json goes with -d/--dump-conf or `kaopsd status`, not with -t')
    return configTestLog === undefined ? {kind: 'config-test', options} : {kind: 'config-test', options, logFile: configTestLog}
  }
  if (values['dump-conf']) return {kind: 'dump-config', options, json}
  if (json) throw new UsageError('--json goes with -d/--dump-conf or `kaopsd status`')
  return {kind: 'run', options}
}

function parseStatus(argv: readonly string[]): KaopsdCommand {
  const {values} = strictParse(
    argv,
    {'control-socket': {type: 'string'}, json: {type: 'boolean'}, help: {type: 'boolean', short: 'h'}},
    'kaopsd status --help',
  )
  if (values.help) return {kind: 'help', text: statusUsage}
  return {
    kind: 'status',
    controlSocket: nonEmpty(values['control-socket'], '--control-socket') ?? DEFAULT_CONTROL_SOCKET,
    json: values.json ?? false,
  }
}

function parseTakeover(argv: readonly string[]): KaopsdCommand {
  const {values} = strictParse(
    argv,
    {
      'control-socket': {type: 'string'},
      json: {type: 'boolean'},
      end: {type: 'boolean'},
      instance: {type: 'string', multiple: true},
      lease: {type: 'string'},
      reason: {type: 'string'},
      help: {type: 'boolean', short: 'h'},
    },
    'kaopsd takeover --help',
  )
  if (values.help) return {kind: 'help', text: takeoverUsage}
  const end = values.end ?? false
  if (end && values.lease !== undefined) throw new UsageError('--lease goes with a takeover, not with --end')
  const instances = (values.instance ?? []).map((n) => nonEmpty(n, '--instance')!)
  const cmd: KaopsdCommand = {
    kind: 'takeover',
    controlSocket: nonEmpty(values['control-socket'], '--control-socket') ?? DEFAULT_CONTROL_SOCKET,
    json: values.json ?? false,
    end,
    instances: [...new Set(instances)],
    leaseSeconds: values.lease === undefined ? TAKEOVER_DEFAULT_LEASE_SECONDS : parseLease(values.lease),
  }
  const reason = nonEmpty(values.reason, '--reason')
  if (reason !== undefined) cmd.reason = reason
  return cmd
}

function parseLease(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN
  if (!Number.isInteger(n) || n < TAKEOVER_LEASE_MIN_SECONDS || n > TAKEOVER_LEASE_MAX_SECONDS) {
    throw new UsageError(`--lease must be whole seconds from ${TAKEOVER_LEASE_MIN_SECONDS} to ${TAKEOVER_LEASE_MAX_SECONDS}, got '${text}'`)
  }
  return n
}

type Spec = Record<string, {type: 'string' | 'boolean'; short?: string; multiple?: boolean}>

function strictParse<S extends Spec>(argv: readonly string[], options: S, helpHint: string) {
  try {
    return parseArgs({args: [...argv], options, strict: true, allowPositionals: false})
  } catch (err) {
    throw new UsageError(`${reword(err as NodeJS.ErrnoException)} (see ${helpHint})`)
  }
}

/** node's parseArgs messages are written for JS callers; say the same thing to an operator. */
function reword(err: NodeJS.ErrnoException): string {
  const opt = /'([^']+)'/.exec(err.message)?.[1]
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${opt ?? ''}`.trim()
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${opt ?? ''}`.trim()
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message)
        ? `option ${opt?.replace(/ <value>$/, '') ?? ''} needs a value`
        : err.message.replace(/^Option/, 'option')
    default:
      return err.message
  }
}

function nonEmpty(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined
  if (value === '') throw new UsageError(`${flag} needs a non-empty value`)
  return value
}

/** -S as keepalived 2.2 takes it: 0..7 or localN mean local0..local7; also user and daemon. */
export function parseFacility(text: string): number {
  const m = /^(?:local)?([0-7])$/.exec(text)
  if (m) return 16 + Number(m[1])
  if (text === 'user') return 1
  if (text === 'daemon') return FACILITY_DAEMON
  throw new UsageError(`-S/--log-facility must be 0-7, local0-local7, user or daemon, got '${text}'`)
}
