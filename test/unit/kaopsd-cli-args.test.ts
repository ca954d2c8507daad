import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  DEFAULT_CONFIG_FILE, DEFAULT_CONTROL_SOCKET, parseFacility, parseKaopsdArgs, UsageError,
  type KaopsdCommand,
} from '../../src/daemon/cli-args.js'
import {runKaopsd} from '../../src/daemon/cli.js'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startControlServer, type ControlRequest} from '../../src/daemon/control/control-server.js'
import {parseTakeoverEndRequest, parseTakeoverRequest} from '../../src/daemon/control/takeover-request.js'
import type {KaopsdStatus, TakeoverAnswer} from '../../src/model/kaopsd-status.js'
import {formatStatus} from '../../src/daemon/status-command.js'

function options(cmd: KaopsdCommand) {
  assert.ok('options' in cmd, `expected a command with options, got ${cmd.kind}`)
  return cmd.options
}

test('no arguments: run with keepalived defaults', () => {
  const cmd = parseKaopsdArgs([])
  assert.equal(cmd.kind, 'run')
  assert.deepEqual(options(cmd), {
    configFile: DEFAULT_CONFIG_FILE, foreground: false, logConsole: false, logDetail: false, logFacility: 3,
    noSyslog: false, vrrpOnly: false, checkOnly: false, dontReleaseVrrp: false, dontReleaseIpvs: false,
    controlSocket: DEFAULT_CONTROL_SOCKET,
  })
})

test('keepalived short flags, bundled and with attached values', () => {
  const o = options(parseKaopsdArgs(['-nlD', '-S3', '-f', '/etc/k.conf', '-p', '/run/k.pid', '-P', '-V', '-I', '-C', '-i', 'lb1']))
  assert.equal(o.configFile, '/etc/k.conf')
  assert.equal(o.pidFile, '/run/k.pid')
  assert.equal(o.configId, 'lb1')
  assert.equal(o.logFacility, 16 + 3)
  for (const k of ['foreground', 'logConsole', 'logDetail', 'vrrpOnly', 'checkOnly', 'dontReleaseVrrp', 'dontReleaseIpvs'] as const) {
    assert.equal(o[k], true, k)
  }
})

test('long flags and --control-socket', () => {
  const o = options(parseKaopsdArgs(['--use-file=/a.conf', '--log-facility', 'local7', '--dont-fork', '--control-socket', '/run/ns1.sock']))
  assert.equal(o.configFile, '/a.conf')
  assert.equal(o.logFacility, 23)
  assert.equal(o.foreground, true)
  assert.equal(o.controlSocket, '/run/ns1.sock')
})

test('-t, --config-test=FILE, -d and -d --json', () => {
  assert.equal(parseKaopsdArgs(['-t', '-f', 'x.conf']).kind, 'config-test')
  assert.deepEqual(parseKaopsdArgs(['--config-test=/tmp/log']), {kind: 'config-test', options: options(parseKaopsdArgs([])), logFile: '/tmp/log'})
  assert.deepEqual(parseKaopsdArgs(['-d']), {kind: 'dump-config', options: options(parseKaopsdArgs([])), json: false})
  const d = parseKaopsdArgs(['-d', '--json'])
  assert.ok(d.kind === 'dump-config' && d.json)
})

test('version, help and subcommands', () => {
  assert.equal(parseKaopsdArgs(['-v']).kind, 'version')
  assert.equal(parseKaopsdArgs(['--version']).kind, 'version')
  assert.equal(parseKaopsdArgs(['-h']).kind, 'help')
  assert.deepEqual(parseKaopsdArgs(['status', '--json']), {kind: 'status', controlSocket: DEFAULT_CONTROL_SOCKET, json: true})
  assert.deepEqual(parseKaopsdArgs(['status', '--control-socket', '/s']), {kind: 'status', controlSocket: '/s', json: false})
  assert.deepEqual(parseKaopsdArgs(['genhash', '-s', '198.18.0.1', '-u', '/']), {kind: 'genhash', args: ['-s', '198.18.0.1', '-u', '/']})
  assert.deepEqual(parseKaopsdArgs(['-T', '-s', 'h']), {kind: 'genhash', args: ['-s', 'h']})
})

test('bad input is a UsageError naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /unknown option --bogus/],
    [['-Z'], /unknown option -Z/],
    [['-S', '8'], /-S\/--log-facility must be 0-7.*got '8'/],
    [['-S', 'local8'], /got 'local8'/],
    [['-f'], /option -f, --use-file needs a value/],
    [['-f', ''], /-f\/--use-file needs a non-empty value/],
    [['extra'], /unexpected argument extra/],
    [['--json'], /--json goes with -d/],
    [['-t', '--json'], /not with -t/],
    [['status', '-x'], /unknown option -x .*kaopsd status --help/],
    [['--', '-n'], /unexpected argument/],
  ]
  for (const [argv, re] of cases) {
    assert.throws(() => parseKaopsdArgs(argv), (e: unknown) => e instanceof UsageError && re.test(e.message), argv.join(' '))
  }
})

test('parseFacility', () => {
  assert.equal(parseFacility('0'), 16)
  assert.equal(parseFacility('local5'), 21)
  assert.equal(parseFacility('user'), 1)
  assert.equal(parseFacility('daemon'), 3)
})

test('runKaopsd: exit codes and where output goes', async () => {
  const io = () => {
    const r = {out: '', err: '', io: {out: (s: string) => void (r.out += s), err: (s: string) => void (r.err += s)}}
    return r
  }
  const a = io()
  assert.equal(await runKaopsd(['--version'], a.io), 0)
  assert.match(a.out, /^kaopsd \d+\.\d+\.\d+\S* \(keepalived 2\.2 compatible\)\n$/)
  const b = io()
  assert.equal(await runKaopsd(['--nope'], b.io), 1)
  assert.equal(b.out, '')
  assert.match(b.err, /^kaopsd: unknown option --nope/)
})

test('takeover: --instance repeats, --lease, --end, --reason, defaults', () => {
  assert.deepEqual(parseKaopsdArgs(['takeover']), {kind: 'takeover', controlSocket: DEFAULT_CONTROL_SOCKET, json: false, end: false, instances: [], leaseSeconds: 60})
  assert.deepEqual(parseKaopsdArgs(['takeover', '--instance', 'VI_1', '--instance=VI_2', '--instance', 'VI_1', '--lease', '120', '--json', '--control-socket', '/s', '--reason', 'restart lb1']), {
    kind: 'takeover', controlSocket: '/s', json: true, end: false, instances: ['VI_1', 'VI_2'], leaseSeconds: 120, reason: 'restart lb1',
  })
  const ended = parseKaopsdArgs(['takeover', '--end', '--instance', 'VI_1'])
  assert.ok(ended.kind === 'takeover' && ended.end && ended.instances.join() === 'VI_1')
  assert.equal(parseKaopsdArgs(['takeover', '--help']).kind, 'help')
  const cases: [string[], RegExp][] = [
    [['takeover', '--lease', '0'], /--lease must be whole seconds from 1 to 3600, got '0'/],
    [['takeover', '--lease', '3601'], /got '3601'/],
    [['takeover', '--lease', '1.5'], /got '1.5'/],
    [['takeover', '--lease', '60s'], /got '60s'/],
    [['takeover', '--end', '--lease', '10'], /--lease goes with a takeover, not with --end/],
    [['takeover', '--instance', ''], /--instance needs a non-empty value/],
    [['takeover', 'VI_1'], /unexpected argument VI_1 .*kaopsd takeover --help/],
    [['takeover', '--instance'], /--instance needs a value/],
  ]
  for (const [argv, re] of cases) {
    assert.throws(() => parseKaopsdArgs(argv), (e: unknown) => e instanceof UsageError && re.test(e.message), argv.join(' '))
  }
})

test('takeover control request: instances, leaseSeconds 1..3600, reason', () => {
  assert.deepEqual(parseTakeoverRequest({command: 'takeover'}), {instances: [], leaseSeconds: 60})
  assert.deepEqual(parseTakeoverRequest({command: 'takeover', instances: ['VI_1', 'VI_1'], leaseSeconds: 3600, reason: 'x'}), {instances: ['VI_1'], leaseSeconds: 3600, reason: 'x'})
  assert.deepEqual(parseTakeoverEndRequest({command: 'takeover-end', instances: null}), {instances: []})
  for (const bad of [0, 3601, 1.5, '60', true]) {
    assert.throws(() => parseTakeoverRequest({command: 'takeover', leaseSeconds: bad}), /"leaseSeconds" must be a whole number of seconds from 1 to 3600/, String(bad))
  }
  assert.throws(() => parseTakeoverRequest({command: 'takeover', instances: 'VI_1'}), /"instances" must be an array/)
  assert.throws(() => parseTakeoverEndRequest({command: 'takeover-end', instances: [1]}), /"instances" must be an array/)
  assert.throws(() => parseTakeoverEndRequest({command: 'takeover-end', reason: 5}), /"reason" must be a string/)
})

test('runKaopsd takeover: request on a real control socket, JSON or one line out, exit codes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaopsd-cli-'))
  const path = join(dir, 'control.sock')
  const seen: ControlRequest[] = []
  // A daemon stand-in behind a real socket: it validates as kaopsd does and knows one instance.
  const server = await startControlServer(path, async (req) => {
    seen.push(req)
    const t = req.command === 'takeover' ? parseTakeoverRequest(req) : parseTakeoverEndRequest(req)
    const unknown = t.instances.filter((n) => n !== 'VI_1')
    if (unknown.length) throw new Error(`unknown VRRP instance ${unknown.join(', ')} (running: VI_1)`)
    const answer: TakeoverAnswer = {
      command: req.command === 'takeover' ? 'takeover' : 'takeover-end',
      instances: [{name: 'VI_1', state: 'MASTER', priority: 100, effectivePriority: req.command === 'takeover' ? 254 : 100,
        takeover: req.command === 'takeover' ? {until: '2030-01-01T00:02:00.000Z', secondsLeft: 120, reason: null} : null}],
    }
    return answer
  })
  const io = () => {
    const r = {out: '', err: '', io: {out: (s: string) => void (r.out += s), err: (s: string) => void (r.err += s)}}
    return r
  }
  try {
    const a = io()
    assert.equal(await runKaopsd(['takeover', '--instance', 'VI_1', '--lease', '120', '--json', '--control-socket', path], a.io), 0, a.err)
    assert.deepEqual(seen.at(-1), {command: 'takeover', instances: ['VI_1'], leaseSeconds: 120})
    const parsed = JSON.parse(a.out) as TakeoverAnswer
    assert.equal(parsed.instances[0]!.effectivePriority, 254)
    assert.equal(parsed.instances[0]!.takeover!.secondsLeft, 120)

    const b = io()
    assert.equal(await runKaopsd(['takeover', '--end', '--control-socket', path], b.io), 0, b.err)
    assert.deepEqual(seen.at(-1), {command: 'takeover-end', instances: []})
    assert.equal(b.out, 'VI_1: MASTER at priority 100 (configured 100), no takeover\n')

    const c = io()
    assert.equal(await runKaopsd(['takeover', '--instance', 'VI_9', '--control-socket', path], c.io), 1)
    assert.equal(c.out, '')
    assert.equal(c.err, 'kaopsd takeover: unknown VRRP instance VI_9 (running: VI_1)\n')

    const d = io()
    assert.equal(await runKaopsd(['takeover', '--control-socket', join(dir, 'nobody.sock')], d.io), 1)
    assert.match(d.err, /^kaopsd takeover: cannot reach kaopsd at .*nobody\.sock: is kaopsd running\?\n$/)
  } finally {
    server.close()
    rmSync(dir, {recursive: true, force: true})
  }
})

test('kaopsd status shows a takeover in force, and nothing when there is none', () => {
  const stats = {advert_rcvd: 0, advert_sent: 0, become_master: 0, release_master: 0, packet_len_err: 0, ip_ttl_err: 0, invalid_type_rcvd: 0, addr_list_err: 0, invalid_authtype: 0, authtype_mismatch: 0, auth_failure: 0, pri_zero_rcvd: 0, pri_zero_sent: 0}
  const vi = {name: 'VI_1', state: 'MASTER' as const, vrid: 51, interface: 'eth0', version: 2 as const, family: 4 as const, priority: 100, effectivePriority: 254, vips: ['198.18.0.100/24'], masterAddress: '198.18.0.12', lastTransition: null, syncGroup: null, stats}
  const status = (takeover: NonNullable<KaopsdStatus['instances'][number]['takeover']> | null): KaopsdStatus => ({
    format_version: 1, version: '0.1.0', pid: 1, uptimeSeconds: 5, configPath: '/k.conf', configHash: 'abcdef0123456789', release: null, virtualServers: [], instances: [{...vi, takeover}],
  })
  const shown = formatStatus(status({until: '2030-01-01T00:00:57.000Z', secondsLeft: 57, reason: 'kaops apply: restart lb1'}))
  assert.match(shown, /\n\nVI_1: operator takeover, 57 s left \(until 2030-01-01T00:00:57\.000Z\): kaops apply: restart lb1\n$/)
  assert.doesNotMatch(formatStatus(status(null)), /takeover/)
})
