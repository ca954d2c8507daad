import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  DEFAULT_CONFIG_FILE, DEFAULT_CONTROL_SOCKET, parseFacility, parseKaopsdArgs, UsageError,
  type KaopsdCommand,
} from '../../src/daemon/cli-args.js'
import {runKaopsd} from '../../src/daemon/cli.js'

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
