// The pure halves of two CLI conventions: the JSON document a failing command prints under
// --json, and which typed words a "did you mean" compares. The CLI runs of both are in
// cli-conventions.test.ts.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Errors} from '@oclif/core'
import {errorDocument, exitCodeOf} from '../../src/cli/error-json.js'
import {levenshtein, splitTypedCommand} from '../../src/cli/command-words.js'
import {KaopsError} from '../../src/model/errors.js'
import {ExitCode} from '../../src/model/exit-codes.js'
import {problemsError} from '../../src/inventory/problems.js'

const IDS = ['apply', 'autocomplete', 'help', 'import', 'init', 'plan', 'releases', 'render', 'rollback', 'status', 'validate', 'verify', 'lab:down', 'lab:status', 'lab:up']
const TOPICS = ['lab']
const split = (typed: string, argv: string[] = []) => splitTypedCommand(typed.split(' '), argv, IDS, TOPICS)

test('did you mean: only the words that name a command are compared, the rest stay arguments', () => {
  // oclif hands the hook `plam:inventories/lab.yaml`; the path is an argument, not a command word.
  assert.deepEqual(split('plam inventories/lab.yaml'), {id: 'plam', argv: ['inventories/lab.yaml']})
  assert.deepEqual(split('plam inventories/lab.yaml', ['--json']), {id: 'plam', argv: ['inventories/lab.yaml', '--json']})
  assert.deepEqual(split('statsu'), {id: 'statsu', argv: []})
  // A word that could be a command word but makes a worse command: plan with an argument.
  assert.deepEqual(split('plam prod'), {id: 'plam', argv: ['prod']})
  assert.deepEqual(split('vrify lab'), {id: 'vrify', argv: ['lab']})
  // Under a real topic the next word is the command's, whatever follows.
  assert.deepEqual(split('lab stat'), {id: 'lab:stat', argv: []})
  assert.deepEqual(split('lab stat inventories/lab.yaml', ['--json']), {id: 'lab:stat', argv: ['inventories/lab.yaml', '--json']})
  // A mistyped topic: two words are closer to `lab up` than one is to any command.
  assert.deepEqual(split('lba up'), {id: 'lba:up', argv: []})
  // Ids are at most two words: a third is always an argument.
  assert.deepEqual(split('lba up now'), {id: 'lba:up', argv: ['now']})
  // Nothing that looks like a command word: the first word is all there is to compare.
  assert.deepEqual(split('./plan x'), {id: './plan', argv: ['x']})
})

test('levenshtein distance', () => {
  assert.equal(levenshtein('kitten', 'sitting'), 3)
  assert.equal(levenshtein('', 'abc'), 3)
  assert.equal(levenshtein('plan', 'plan'), 0)
  assert.equal(levenshtein('plam', 'plan'), 1)
  assert.equal(levenshtein('lba:up', 'lab:up'), 2)
})

test('the --json error document of a KaopsError: message, exit, suggestions, where it points, details', () => {
  const err = new KaopsError('host dir1 (root@127.0.0.1:22): connection refused (unreachable)', {
    exit: ExitCode.unreachable,
    suggestions: ['check sshd'],
    place: {host: 'dir1'},
  })
  assert.deepEqual(errorDocument(err), {
    format_version: 1,
    error: {message: err.message, exit: ExitCode.unreachable, suggestions: ['check sshd'], host: 'dir1', details: []},
  })
  // Keys that are not known are absent, not null: `has("line")` tells a reader whether there is one.
  assert.ok(!('line' in errorDocument(err).error))
  assert.ok(!('file' in errorDocument(new KaopsError('x')).error))
})

test('an inventory with problems points at its first problem by position and lists all of them', () => {
  const problems = [
    {file: 'inv.yaml', line: 9, column: 11, path: 'vips[0].vrid', message: 'must be <= 255'},
    {file: 'inv.yaml', line: 2, column: 1, path: 'site', message: 'unknown key "site"'},
  ]
  const doc = errorDocument(problemsError('inv.yaml', problems))
  assert.equal(doc.error.exit, ExitCode.error)
  assert.deepEqual([doc.error.file, doc.error.line, doc.error.column], ['inv.yaml', 2, 1])
  assert.deepEqual(
    doc.error.details.map((d) => [d.line, d.path]),
    [
      [2, 'site'],
      [9, 'vips[0].vrid'],
    ],
  )
  assert.match(doc.error.message, /^inv\.yaml: 2 problems in the inventory:\n {2}inv\.yaml:2:1: site: unknown key/)
})

test("other errors: oclif's exit code (a bad flag), else 1", () => {
  const cli = new Errors.CLIError('Nonexistent flag: --jsn', {exit: 7, suggestions: ['--json']})
  assert.equal(exitCodeOf(cli), 7)
  assert.deepEqual(errorDocument(cli), {format_version: 1, error: {message: 'Nonexistent flag: --jsn', exit: 7, suggestions: ['--json'], details: []}})
  assert.equal(exitCodeOf(new TypeError('x is undefined')), ExitCode.error)
  assert.deepEqual(errorDocument(new TypeError('x is undefined')).error, {message: 'x is undefined', exit: 1, suggestions: [], details: []})
})
