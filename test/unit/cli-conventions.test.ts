// The conventions every kaops command keeps, checked on the real CLI through its oclif entry
// (bin/dev.js: the sources, no build): help with examples, --json that parses, "did you mean"
// for a typo, exit codes as the README documents them, and shell completion that knows every
// command and flag. Nothing here needs a lab: the SSH commands are pointed at a closed port on
// loopback, so each reports an unreachable host without sending a packet anywhere else.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {Config, Plugin} from '@oclif/core'
import {ExitCode} from '../../src/model/exit-codes.js'
import {SETUPS} from './import-fixtures.js'

const ROOT = join(import.meta.dirname, '..', '..')
const DEV = join(ROOT, 'bin', 'dev.js')

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

/** At most this many CLIs at once: each start compiles the sources through tsx, and CI machines are small. */
const MAX_RUNNING = 4
let running = 0
const waiting: Array<() => void> = []

/** `kaops ARGS` as an operator runs it; async so that independent runs overlap. */
async function kaops(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  if (running >= MAX_RUNNING) await new Promise<void>((go) => waiting.push(go))
  running++
  try {
    return await kaopsNow(args, env)
  } finally {
    running--
    waiting.shift()?.()
  }
}

function kaopsNow(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEV, ...args], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({status, stdout, stderr})
    })
  })
}

/**
 * The CLI's commands as oclif itself loads them, the way bin/dev.js does: src/commands, without
 * the oclif.manifest.json that `npm run build` writes for dist/.
 */
async function loadCli(): Promise<Config> {
  const pjson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {oclif: Record<string, unknown>}
  pjson.oclif['commands'] = './src/commands'
  const rootPlugin = new Plugin({root: ROOT, pjson: pjson as never, isRoot: true, ignoreManifest: true})
  await rootPlugin.load()
  const config = new Config({root: ROOT, pjson: pjson as never, plugins: new Map([[rootPlugin.name, rootPlugin]])})
  await config.load()
  await config.loadPluginsAndCommands({force: true})
  return config
}

const ownCommands = (config: Config) => config.commands.filter((c) => c.pluginName === 'kaops')
const visibleCommands = (config: Config) => config.commands.filter((c) => !c.hidden)
const argvOf = (id: string) => id.split(':')

/** Commands whose output is the product itself, not a report: no --json. */
const NO_JSON: Record<string, string> = {init: 'prints (or writes) the starter inventory YAML itself'}

/** A TCP port on loopback that nothing listens on: connections are refused at once. */
async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok))
  const {port} = srv.address() as {port: number}
  await new Promise<void>((ok) => srv.close(() => ok()))
  return port
}

/**
 * inventories/lab.yaml with every host's SSH sent to a closed loopback port and the lab on a
 * bridge of its own, so nothing touches a lab that may be running.
 */
function unreachableInventory(dir: string, port: number): string {
  let text = readFileSync(join(ROOT, 'inventories', 'lab.yaml'), 'utf8')
  text = text.replace(/identityFile: .*/, `identityFile: ${join(dir, 'id_ed25519')}`).replace(/knownHosts: .*/, `knownHosts: ${join(dir, 'known_hosts')}`)
  text = text.replace(/bridge: kaops-lab0/, 'bridge: kaops-cliconv0')
  text = text.replace(/( {2}- name: (dir\d|web\d)\n {4}address: [^\n]+\n)/g, `$1    ssh: {host: 127.0.0.1, port: ${port}}\n`)
  assert.equal(text.match(/host: 127\.0\.0\.1/g)?.length, 4, 'every director and real server is redirected')
  writeFileSync(join(dir, 'known_hosts'), '')
  const key = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')])
  if (key.status !== 0) writeFileSync(join(dir, 'id_ed25519'), 'not a key: the connection is refused before it is read\n')
  const path = join(dir, 'inventory.yaml')
  writeFileSync(path, text)
  return path
}

/**
 * The one JSON document a command that failed under --json prints on stdout, checked against
 * what the same run said on stderr and the exit code it ended with.
 */
function errorDocumentOf(r: Run, what: string): any {
  let j: any
  assert.doesNotThrow(() => (j = JSON.parse(r.stdout)), `${what} prints one JSON document: ${r.stdout.slice(0, 300)} / stderr: ${r.stderr}`)
  assert.equal(j.format_version, 1, what)
  assert.equal(typeof j.error?.message, 'string', `${what}: an error document: ${r.stdout.slice(0, 300)}`)
  assert.equal(j.error.exit, r.status, `${what}: the document's exit is the process's`)
  // The human message is on stderr as before (unwrapped: OCLIF_COLUMNS is wide in these runs).
  assert.ok(r.stderr.includes(j.error.message.split('\n')[0]), `${what}: stderr says ${JSON.stringify(j.error.message.split('\n')[0])}: ${r.stderr}`)
  assert.ok(Array.isArray(j.error.suggestions) && Array.isArray(j.error.details), what)
  return j
}

test('every command is loaded from src/commands, and each --help exits 0 with usage and examples', async () => {
  const config = await loadCli()
  const files: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      if (e.isDirectory()) walk(join(d, e.name))
      else if (e.name.endsWith('.ts')) files.push(relative(join(ROOT, 'src', 'commands'), join(d, e.name)).replace(/\.ts$/, '').replaceAll('/', ':'))
    }
  }
  walk(join(ROOT, 'src', 'commands'))
  assert.deepEqual(ownCommands(config).map((c) => c.id).sort(), files.sort())
  const visible = visibleCommands(config)
  for (const id of ['help', 'autocomplete', 'plan', 'lab:status']) assert.ok(visible.some((c) => c.id === id), `${id} is a command`)
  const runs = await Promise.all(visible.map((c) => kaops([...argvOf(c.id), '--help'])))
  visible.forEach((c, i) => {
    const r = runs[i]!
    assert.equal(r.status, 0, `kaops ${argvOf(c.id).join(' ')} --help: ${r.stderr}`)
    assert.match(r.stdout, /^USAGE\n {2}\$ kaops /m, c.id)
    // plugin-help's own `help` command ships without examples; everything else has some.
    if (c.id === 'help') return
    assert.ok((c.examples ?? []).length > 0, `${c.id} declares examples`)
    assert.match(r.stdout, /^EXAMPLES\n {2}\$ kaops \S/m, `kaops ${c.id} --help shows its examples`)
  })
})

test('every command that reports has --json; each prints one parseable JSON document without a lab', async () => {
  const config = await loadCli()
  for (const c of ownCommands(config)) {
    if (c.id in NO_JSON) assert.ok(!('json' in c.flags), `${c.id}: listed as without --json but has it`)
    else {
      assert.ok('json' in c.flags, `kaops ${argvOf(c.id).join(' ')} has no --json`)
      assert.ok((c.examples ?? []).some((e) => / --json\b/.test(typeof e === 'string' ? e : e.command)), `kaops ${argvOf(c.id).join(' ')}: an example shows --json`)
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'kaops-cli-'))
  try {
    const inv = unreachableInventory(dir, await closedPort())
    const conf = join(dir, 'master.conf')
    writeFileSync(conf, Object.values(SETUPS[0]!.files)[0]!)
    const labEnv = {HOME: dir, KAOPS_LAB_CACHE: join(dir, 'lab-cache')}
    const root = process.getuid?.() === 0
    const cases: Array<{argv: string[]; exit: number; env?: Record<string, string>; check: (j: any) => void}> = [
      {argv: ['validate', 'inventories/lab.yaml', '--json'], exit: ExitCode.ok, check: (j) => assert.deepEqual([j.valid, j.problems], [true, []])},
      {argv: ['render', 'inventories/lab.yaml', '--out', join(dir, 'rendered'), '--redact', '--json'], exit: ExitCode.ok, check: (j) => assert.ok(j.files.some((f: {host: string; path: string}) => f.host === 'dir1' && f.path.endsWith('keepalived.conf')))},
      {argv: ['import', '--file', conf, '--json'], exit: ExitCode.ok, check: (j) => assert.match(j.inventory, /vrid: 51/)},
      {argv: ['plan', inv, '--json'], exit: ExitCode.unreachable, check: (j) => assert.deepEqual(j.errors.map((e: {host: string; message: string}) => [e.host, /unreachable/.test(e.message)]), [['dir1', true], ['dir2', true], ['web1', true], ['web2', true]])},
      {argv: ['status', inv, '--json'], exit: ExitCode.unreachable, check: (j) => assert.deepEqual(j.directors.map((d: {name: string; reachable: boolean}) => [d.name, d.reachable]), [['dir1', false], ['dir2', false]])},
      {argv: ['verify', inv, '--json'], exit: ExitCode.error, check: (j) => assert.equal(j.ok, false)},
      {argv: ['releases', inv, '--json'], exit: ExitCode.unreachable, check: (j) => assert.equal(j.hosts.length, 4)},
      {argv: ['lab', 'status', inv, '--json'], exit: ExitCode.ok, env: labEnv, check: (j) => assert.deepEqual([j.bridge.name, j.bridge.present, j.ready], ['kaops-cliconv0', false, false])},
      // `lab down` needs root; with nothing recorded in its cache it removes nothing.
      ...(root ? [{argv: ['lab', 'down', inv, '--json'], exit: ExitCode.ok, env: labEnv, check: (j: any) => assert.deepEqual(j.removed, [])}] : []),
    ]
    const runs = await Promise.all(cases.map((c) => kaops(c.argv, c.env)))
    cases.forEach((c, i) => {
      const r = runs[i]!
      const what = `kaops ${c.argv.join(' ')}`
      assert.equal(r.status, c.exit, `${what}: exit ${r.status}, stderr: ${r.stderr}`)
      let parsed: unknown
      assert.doesNotThrow(() => (parsed = JSON.parse(r.stdout)), `${what} prints one JSON document: ${r.stdout.slice(0, 200)}`)
      c.check(parsed)
    })
    // apply and rollback cannot start without their hosts: the error on stderr and, on stdout,
    // the error document (not a result) naming each host that could not be read.
    for (const argv of [['apply', inv, '--yes', '--json'], ['rollback', inv, '--json']]) {
      const r = await kaops(argv, {OCLIF_COLUMNS: '1000'})
      const j = errorDocumentOf(r, `kaops ${argv.join(' ')}`)
      assert.equal(r.status, ExitCode.unreachable, `kaops ${argv.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /unreachable/)
      assert.ok(!('result' in j), 'no result')
      assert.deepEqual(
        j.error.details.map((d: {host: string; message: string}) => [d.host, /unreachable/.test(d.message)]),
        [['dir1', true], ['dir2', true], ['web1', true], ['web2', true]],
      )
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('under --json a command that fails prints one JSON error document on stdout, the message on stderr, and keeps its exit code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaops-cli-err-'))
  try {
    const inv = unreachableInventory(dir, await closedPort())
    const lines = readFileSync(inv, 'utf8').split('\n')
    const lineOf = (re: RegExp) => {
      const i = lines.findIndex((l) => re.test(l))
      assert.ok(i >= 0, `${re} in the inventory`)
      return i + 1
    }
    // Valid YAML with a VRID out of range: a schema problem on a line we know.
    const vridLine = lineOf(/^ {4}vrid: 51$/)
    const broken = join(dir, 'broken.yaml')
    writeFileSync(broken, lines.map((l, i) => (i + 1 === vridLine ? l.replace('51', '999') : l)).join('\n'))
    // A PASS secret longer than VRRP carries is a problem too; its value must appear nowhere.
    const secretLine = lineOf(/secret: \{env: KAOPS_LAB_VRRP_PASS/)
    const secret = 'kaops-json-error-secret-7f3a'
    const brokenInventory = (j: any) => {
      assert.deepEqual([j.error.file, j.error.line], [broken, vridLine])
      assert.ok(j.error.details.some((d: any) => d.file === broken && d.line === vridLine && d.path === 'vips[0].vrid'), JSON.stringify(j.error.details))
      assert.match(j.error.message, /1 problem in the inventory/)
    }
    const cases: Array<{argv: string[]; exit: number; env?: Record<string, string>; check: (j: any) => void}> = [
      {argv: ['plan', broken, '--json'], exit: ExitCode.error, check: brokenInventory},
      // status has oclif's enableJsonFlag rather than a json flag of its own: the same document.
      {argv: ['status', broken, '--json'], exit: ExitCode.error, check: brokenInventory},
      {
        argv: ['render', inv, '--out', join(dir, 'rendered'), '--json'],
        exit: ExitCode.error,
        env: {KAOPS_LAB_VRRP_PASS: secret},
        check: (j) => {
          assert.deepEqual([j.error.file, j.error.line], [inv, secretLine])
          assert.match(j.error.message, /PASS secret \(env KAOPS_LAB_VRRP_PASS\) is longer than 8/)
        },
      },
      {argv: ['validate', join(dir, 'missing.yaml'), '--json'], exit: ExitCode.error, check: (j) => assert.deepEqual([j.error.file, /ENOENT/.test(j.error.message)], [join(dir, 'missing.yaml'), true])},
      {
        argv: ['plan', inv, '--host', 'nosuch', '--json'],
        exit: ExitCode.error,
        check: (j) => {
          assert.match(j.error.message, /unknown host\(s\): nosuch/)
          assert.match(j.error.suggestions.join('\n'), /^hosts in this inventory: dir1, dir2, web1, web2\b/)
        },
      },
      // A flag that does not parse: oclif's error, still as JSON, still exit 1.
      {argv: ['plan', inv, '--json', '--parallel', 'many'], exit: ExitCode.error, check: (j) => assert.match(j.error.message, /Expected an integer but received: many/)},
    ]
    const runs = await Promise.all(cases.map((c) => kaops(c.argv, {OCLIF_COLUMNS: '1000', ...c.env})))
    cases.forEach((c, i) => {
      const r = runs[i]!
      const what = `kaops ${c.argv.join(' ')}`
      assert.equal(r.status, c.exit, `${what}: exit ${r.status}, stderr: ${r.stderr}`)
      c.check(errorDocumentOf(r, what))
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `${what}: the secret stays out of the output`)
    })

    // A command that fails after printing its report adds no second document: a reader still
    // parses stdout (here a plan of unreachable hosts that cannot then be saved), the exit is 1.
    const late = await kaops(['plan', inv, '--json', '--out', join(dir, 'no-such-dir', 'p.plan')])
    assert.equal(late.status, ExitCode.error, late.stderr)
    const plan = JSON.parse(late.stdout)
    assert.deepEqual([plan.errors.length, 'error' in plan], [4, false])
    assert.match(late.stderr, /ENOENT/)

    // validate reports problems rather than failing on them: its own document places each one.
    const [report, plain] = await Promise.all([kaops(['validate', broken, '--json']), kaops(['plan', broken])])
    assert.equal(report.status, ExitCode.error, report.stderr)
    const j = JSON.parse(report.stdout)
    assert.equal(j.valid, false)
    assert.deepEqual(
      j.problems.map((p: any) => [p.file, p.line, p.path]),
      [[broken, vridLine, 'vips[0].vrid']],
    )
    assert.ok(!('error' in j))
    // Without --json, stdout stays empty: the error is for people, on stderr.
    assert.equal(plain.status, ExitCode.error)
    assert.equal(plain.stdout, '')
    assert.match(plain.stderr, new RegExp(`${broken.replaceAll('.', '\\.')}:${vridLine}:\\d+: vips\\[0\\]\\.vrid`))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('every command has a one-line summary, apart from its description, and the command lists show it', async () => {
  const config = await loadCli()
  const own = ownCommands(config)
  for (const c of own) {
    const summary = c.summary ?? ''
    // One line that fits beside the command name in an 80-column list.
    assert.ok(summary.length > 0 && summary.length <= 60 && !summary.includes('\n'), `${c.id}: summary ${JSON.stringify(summary)}`)
    assert.ok((c.description ?? '').length > summary.length, `${c.id}: the description says more than the summary`)
  }
  const [top, lab] = await Promise.all([kaops(['--help']), kaops(['lab', '--help'])])
  assert.equal(top.status, 0, top.stderr)
  assert.equal(lab.status, 0, lab.stderr)
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  for (const c of own) {
    const words = argvOf(c.id)
    assert.match(words.length > 1 ? lab.stdout : top.stdout, new RegExp(`^ {2}${words.join(' ')} +${literal(c.summary!)}$`, 'm'), `kaops${words.length > 1 ? ' lab' : ''} --help lists ${c.id} with its summary`)
  }
  // A command's own help starts with its summary; under DESCRIPTION oclif repeats it, then the description.
  const validate = await kaops(['validate', '--help'])
  const v = config.findCommand('validate')!
  assert.ok(validate.stdout.startsWith(`${v.summary}\n`), validate.stdout.slice(0, 200))
  assert.ok(validate.stdout.includes(`\nDESCRIPTION\n  ${v.summary}\n\n  Check an inventory (YAML, schema`), validate.stdout)
})

test('a mistyped command exits 127 and, on a terminal, asks "did you mean" about the command words only', async () => {
  // oclif hands the not-found hook every leading word: the inventory path must not be compared.
  const [plain, topic] = await Promise.all([kaops(['plam', 'inventories/lab.yaml', '--json']), kaops(['lab', 'stat'])])
  assert.equal(plain.status, 127)
  assert.match(plain.stderr, /^ *(Warning: )?plam is not a kaops command\.$/m)
  assert.match(plain.stderr, /Run kaops help for a list of available commands/)
  // Our hook wraps plugin-not-found's in its place: one warning, not one from each.
  assert.equal(plain.stderr.match(/is not a kaops command/g)?.length, 1, plain.stderr)
  assert.equal(plain.stdout, '')
  assert.equal(topic.status, 127)
  assert.match(topic.stderr, /lab stat is not a kaops command/)
  assert.match(topic.stderr, /Run kaops help lab for a list/)
  // The suggestion is a question, asked only on a terminal: give the CLI one (script(1)) and answer.
  if (spawnSync('script', ['--version']).status !== 0) return
  const ask = (words: string, answer: 'y' | 'n') =>
    new Promise<Run>((resolve, reject) => {
      const child = spawn('script', ['-qec', `'${process.execPath}' '${DEV}' ${words}`, '/dev/null'], {cwd: ROOT, env: {...process.env, NO_COLOR: '1'}, stdio: ['pipe', 'pipe', 'pipe']})
      let stdout = ''
      let answered = false
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString()
        if (!answered && /Did you mean/.test(stdout)) {
          answered = true
          child.stdin.write(`${answer}\r`)
        }
      })
      child.on('error', reject)
      child.on('close', (status) => {
        clearTimeout(timer)
        resolve({status, stdout, stderr: ''})
      })
    })
  const [plan, labStatus, labUp, accepted] = await Promise.all([
    ask('plam inventories/lab.yaml', 'n'),
    ask('lab stat', 'n'),
    ask('lba up', 'n'),
    ask('valdate inventories/lab.yaml', 'y'),
  ])
  assert.match(plan.stdout, /Did you mean plan\?/)
  assert.equal(plan.status, 127, plan.stdout)
  assert.match(labStatus.stdout, /Did you mean lab status\?/)
  assert.equal(labStatus.status, 127, labStatus.stdout)
  // A mistyped topic: its two words are compared with the two-word commands.
  assert.match(labUp.stdout, /Did you mean lab up\?/)
  assert.equal(labUp.status, 127, labUp.stdout)
  // Yes runs the suggestion with the arguments that were typed after the command.
  assert.match(accepted.stdout, /Did you mean validate\?/)
  assert.match(accepted.stdout, /inventories\/lab\.yaml: valid/)
  assert.equal(accepted.status, 0, accepted.stdout)
})

const BUILT = existsSync(join(ROOT, 'oclif.manifest.json')) && existsSync(join(ROOT, 'dist', 'hooks', 'command-not-found.js'))

test('the built CLI (bin/run.js with oclif.manifest.json) runs the same not-found hook', {skip: !BUILT && 'not built: run npm run build'}, () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), 'plam', 'inventories/lab.yaml'], {cwd: ROOT, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, timeout: 60_000})
  assert.equal(r.status, 127, r.stderr)
  assert.match(r.stderr, /plam is not a kaops command\.\n/)
  assert.equal(r.stderr.match(/is not a kaops command/g)?.length, 1, r.stderr)
  assert.match(r.stderr, /Run kaops help for a list of available commands/)
})

test('bad flags and arguments exit 1, never 2 (2 is `plan --detailed-exitcode`: changes)', async () => {
  const runs = await Promise.all([['plan', 'inventories/lab.yaml', '--jsn'], ['plan'], ['validate', 'a.yaml', 'b.yaml'], ['init', '--shape', 'nope'], ['plan', 'x', '--parallel', 'many']].map((a) => kaops(a)))
  for (const r of runs) {
    assert.equal(r.status, ExitCode.error, r.stderr)
    assert.match(r.stderr, /Error/)
  }
  assert.match(runs[0]!.stderr, /Nonexistent flag: --jsn/)
})

test('the exit codes in the README are the ones in src/model/exit-codes.ts', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = readme.split(/^## Exit codes\n/m)[1]?.split(/^## /m)[0]
  assert.ok(section, 'README has an "## Exit codes" section')
  const rows = new Map([...section.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2]!]))
  // The meaning each name must carry in the README's words.
  const meaning: Record<keyof typeof ExitCode, RegExp> = {
    ok: /success/,
    error: /bad input.*fail/,
    changes: /plan --detailed-exitcode/,
    environment: /this machine lacks/,
    unreachable: /could not be reached/,
    locked: /holds the lock/,
  }
  for (const [name, code] of Object.entries(ExitCode) as Array<[keyof typeof ExitCode, number]>) {
    assert.ok(rows.has(code), `README documents exit ${code} (${name})`)
    assert.match(rows.get(code)!, meaning[name], `README's row for ${code} describes ${name}`)
  }
  // Beyond kaops' own codes, only oclif's not-found exit, which the typo test above observes.
  assert.deepEqual([...rows.keys()].filter((c) => !Object.values(ExitCode).includes(c as never)), [127])
  assert.match(rows.get(127)!, /not a kaops command/)
})

test('shell completion: setup instructions, and bash and zsh scripts that know every command and flag', async () => {
  const home = mkdtempSync(join(tmpdir(), 'kaops-ac-'))
  try {
    const env = {HOME: home, XDG_CACHE_HOME: undefined}
    const [bash, zsh] = await Promise.all([kaops(['autocomplete', 'bash'], env), kaops(['autocomplete', 'zsh'], env)])
    assert.equal(bash.status, 0, bash.stderr)
    assert.equal(zsh.status, 0, zsh.stderr)
    assert.match(bash.stdout, /printf "\$\(kaops autocomplete script bash\)" >> ~\/\.bashrc; source ~\/\.bashrc/)
    assert.match(zsh.stdout, /printf "\$\(kaops autocomplete script zsh\)" >> ~\/\.zshrc; source ~\/\.zshrc/)
    // plugin-autocomplete v3 writes its cache under oclif's cacheDir: $HOME/.cache/kaops/autocomplete.
    const cache = join(home, '.cache', 'kaops', 'autocomplete')
    const bashFn = join(cache, 'functions', 'bash', 'kaops.bash')
    const zshFn = join(cache, 'functions', 'zsh', '_kaops')
    assert.ok(existsSync(bashFn) && existsSync(zshFn), `completion files under ${cache}`)
    assert.match(readFileSync(join(cache, 'bash_setup'), 'utf8'), new RegExp(`KAOPS_AC_BASH_COMPFUNC_PATH=${bashFn.replaceAll('.', '\\.')} `))
    assert.match(readFileSync(join(cache, 'zsh_setup'), 'utf8'), new RegExp(`^${join(cache, 'functions', 'zsh').replaceAll('.', '\\.')}$`, 'm'))
    const script = await kaops(['autocomplete', 'script', 'bash'], env)
    assert.match(script.stdout, new RegExp(`KAOPS_AC_BASH_SETUP_PATH=${join(cache, 'bash_setup').replaceAll('.', '\\.')} `))

    const config = await loadCli()
    const commands = visibleCommands(config)
    const flagsOf = (id: string) => Object.entries(config.findCommand(id)!.flags).filter(([, f]) => !f.hidden).map(([name]) => `--${name}`)
    // bash: one line per command, "id --flag --flag ...", that the completion function reads.
    const bashText = readFileSync(bashFn, 'utf8')
    const listed = new Map(
      bashText
        .split(/local commands="\n/)[1]!
        .split(/\n"\n/)[0]!
        .split('\n')
        .map((l) => [l.split(' ')[0]!, l.split(' ').slice(1)] as const),
    )
    for (const c of commands) {
      assert.ok(listed.has(c.id), `bash completion lists ${c.id}`)
      assert.deepEqual(new Set(listed.get(c.id)), new Set(flagsOf(c.id).filter((f) => f !== '--help')), `bash completion flags of ${c.id}`)
    }
    assert.deepEqual(new Set(listed.get('plan')), new Set(['--json', '--out', '--detailed-exitcode', '--parallel', '--host']))
    // ... and it completes in a real bash.
    const complete = (line: string) => {
      const words = line.split(' ')
      const r = spawnSync('bash', ['-c', `source "$1"; COMP_WORDS=("\${@:2}"); COMP_CWORD=$(($# - 2)); _kaops_autocomplete; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', bashFn, ...words], {encoding: 'utf8'})
      assert.equal(r.status, 0, r.stderr)
      return r.stdout.split('\n').filter(Boolean).sort()
    }
    assert.deepEqual(complete('kaops pl'), ['plan'])
    assert.deepEqual(complete('kaops lab '), ['down', 'status', 'up'])
    assert.deepEqual(complete('kaops plan --d'), ['--detailed-exitcode'])
    assert.deepEqual(complete('kaops lab status --'), ['--json'])

    // zsh: top-level commands and topics in _kaops, the lab topic's commands in _kaops_lab, flags per command.
    const zshText = readFileSync(zshFn, 'utf8')
    assert.match(zshText, /^#compdef kaops$/m)
    for (const c of commands) {
      const [first, sub] = argvOf(c.id)
      const fn = sub ? zshText.split(/^_kaops_lab\(\) \{$/m)[1]!.split(/^\}$/m)[0]! : zshText.split(/^_kaops\(\) \{$/m)[1]!
      assert.match(fn, new RegExp(`^"${sub ?? first}\\[`, 'm'), `zsh completion lists ${c.id}`)
      // Our own commands are listed with their one-line summary (plugin-autocomplete reads `summary`).
      if (c.pluginName === 'kaops') assert.ok(fn.includes(`"${sub ?? first}[${c.summary}]"`), `zsh completion shows the summary of ${c.id}`)
      const block = new RegExp(`^ *"?${sub ?? first}"?\\)\\n([\\s\\S]*?);;`, 'm').exec(fn)?.[1] ?? ''
      assert.match(block, /_arguments -S/, `zsh completion has a flag block for ${c.id}`)
      // --flag"[description]", or {-f,--flag}"[description]" when it has a short form too.
      for (const f of flagsOf(c.id)) assert.ok(block.includes(`${f}"[`) || block.includes(`${f}}"[`), `zsh completion: ${c.id} ${f}`)
    }
    assert.match(zshText, /^"lab\[/m, 'the lab topic itself')
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
})
