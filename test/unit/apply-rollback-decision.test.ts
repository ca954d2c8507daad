// `kaops rollback` without --to undoes the last apply as a whole site: which hosts move, where,
// and what the others are told. Pure: the hosts' release listings in, the decision out.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {decideRollback, type HostDecision} from '../../src/apply/rollback-decision.js'
import {isReleaseId, isRolloutId, makeRolloutId} from '../../src/apply/release-id.js'
import {buildManifest, parseManifest} from '../../src/apply/manifest.js'
import {formatReleases, parseReleaseListing} from '../../src/apply/releases-list.js'
import type {HostReleases, ReleaseManifest} from '../../src/model/release.js'
import {director, realServer} from './plan-fixtures.js'

const A = makeRolloutId(new Date('2025-01-01T10:00:00.000Z'), 'aaaaaaaa')
const B = makeRolloutId(new Date('2025-01-02T10:00:00.000Z'), 'bbbbbbbb')
const C = makeRolloutId(new Date('2025-01-03T10:00:00.000Z'), 'cccccccc')

/** A release id made on `day` of January 2025; `n` keeps ids of one day apart. */
const rid = (day: number, n: number) => `202501${String(day).padStart(2, '0')}T100001Z-0000000${n}`

interface Rel {
  id: string
  rollout?: string
  prev?: string | null
  unreadable?: boolean
}

/** A host's listing as `kaops releases` reads it: `current` is one of the ids (or null). */
function host(name: string, current: string | null, rels: Rel[]): HostReleases {
  return {
    host: name,
    current,
    releases: rels
      .map((r) => ({
        id: r.id,
        current: r.id === current,
        ...(r.unreadable ? {problem: 'no readable manifest.json'} : {created_at: 'x', files: 1}),
        ...(r.rollout !== undefined ? {rollout: r.rollout} : {}),
        ...(r.prev !== undefined ? {previous_release: r.prev} : {}),
      }))
      .sort((x, y) => (x.id < y.id ? 1 : -1)),
  }
}

const byHost = (hs: HostDecision[]) => Object.fromEntries(hs.map((h) => [h.host, h]))
const moves = (hs: HostDecision[]) => Object.fromEntries(hs.map((h) => [h.host, h.action === 'move' ? h.to : h.action]))

test('apply A (every host) then B (dir1 only): rollback moves dir1 back to its A release, the others stay and say why', () => {
  const before = rid(1, 0) // what each host ran before A: a release from an older kaops, no rollout recorded
  const d = decideRollback([
    host('dir1', rid(2, 2), [{id: before}, {id: rid(1, 1), rollout: A, prev: before}, {id: rid(2, 2), rollout: B, prev: rid(1, 1)}]),
    host('dir2', rid(1, 1), [{id: before}, {id: rid(1, 1), rollout: A, prev: before}]),
    host('web1', rid(1, 1), [{id: before}, {id: rid(1, 1), rollout: A, prev: before}]),
  ])
  assert.equal(d.rollout, B)
  // The bug this replaces: dir2 and web1 went back to `before`, though B never touched them.
  assert.deepEqual(moves(d.hosts), {dir1: rid(1, 1), dir2: 'stay', web1: 'stay'})
  const h = byHost(d.hosts)
  assert.match((h['dir1'] as {note: string}).note, new RegExp(`undoes rollout ${B}: back to ${rid(1, 1)}`))
  assert.match((h['dir2'] as {note: string}).note, new RegExp(`not changed by rollout ${B}: stays on ${rid(1, 1)}, from rollout ${A}`))
  assert.equal((h['web1'] as {current: string}).current, rid(1, 1), 'the release the decision saw, checked again under the lock')
})

test('a second rollback undoes the apply before: the hosts already rolled back are not newest-first, and nothing loops', () => {
  // After the rollback above: dir1 is back on its A release, B's release still lies above it.
  const before = rid(1, 0)
  const hosts = [
    host('dir1', rid(1, 1), [{id: before}, {id: rid(1, 1), rollout: A, prev: before}, {id: rid(2, 2), rollout: B, prev: rid(1, 1)}]),
    host('dir2', rid(1, 1), [{id: before}, {id: rid(1, 1), rollout: A, prev: before}]),
  ]
  const d = decideRollback(hosts)
  assert.equal(d.rollout, A, 'the newest rollout IN EFFECT, not the newest release on disk')
  assert.deepEqual(moves(d.hosts), {dir1: before, dir2: before}, 'dir1 goes below A, never up to B')
})

test('the predecessor comes from the manifest, not the id order: A, B, rolled back to A, then C on dir1 returns dir1 to A', () => {
  const d = decideRollback([
    host('dir1', rid(3, 3), [{id: rid(1, 1), rollout: A, prev: null}, {id: rid(2, 2), rollout: B, prev: rid(1, 1)}, {id: rid(3, 3), rollout: C, prev: rid(1, 1)}]),
    host('dir2', rid(1, 1), [{id: rid(1, 1), rollout: A, prev: null}, {id: rid(2, 2), rollout: B, prev: rid(1, 1)}]),
  ])
  assert.equal(d.rollout, C)
  // The newest older release would be B's, which C never replaced.
  assert.deepEqual(moves(d.hosts), {dir1: rid(1, 1), dir2: 'stay'})
})

test('a first-ever apply: nothing older to return to, so the host stays and says so', () => {
  const d = decideRollback([host('dir1', rid(1, 1), [{id: rid(1, 1), rollout: A, prev: null}]), host('web1', null, [])])
  assert.equal(d.rollout, A)
  assert.deepEqual(moves(d.hosts), {dir1: 'stay', web1: 'stay'})
  const h = byHost(d.hosts)
  assert.match((h['dir1'] as {note: string}).note, /made its first release .*nothing older to return to/)
  assert.match((h['web1'] as {note: string}).note, new RegExp(`not changed by rollout ${A}: stays on no kaops release`))
})

test('mixed manifests: hosts whose current release predates rollout ids stay when another host has the newest rollout', () => {
  const d = decideRollback([
    host('dir1', rid(2, 2), [{id: rid(1, 1)}, {id: rid(2, 2), rollout: B, prev: rid(1, 1)}]),
    host('dir2', rid(1, 5), [{id: rid(1, 4)}, {id: rid(1, 5)}]),
  ])
  assert.equal(d.rollout, B)
  assert.deepEqual(moves(d.hosts), {dir1: rid(1, 1), dir2: 'stay'})
  assert.match((byHost(d.hosts)['dir2'] as {note: string}).note, /not changed by rollout .*from before kaops recorded rollouts/)
})

test('no current release records a rollout: every host to its previous release as before, saying why', () => {
  const d = decideRollback([host('dir1', rid(2, 2), [{id: rid(1, 1)}, {id: rid(2, 2)}]), host('web1', rid(1, 3), [{id: rid(1, 3)}]), host('web2', null, [])])
  assert.equal(d.rollout, null)
  assert.deepEqual(moves(d.hosts), {dir1: rid(1, 1), web1: 'stay', web2: 'error'})
  const h = byHost(d.hosts)
  assert.match((h['dir1'] as {note: string}).note, /no current release records the apply that made it/)
  assert.match((h['web1'] as {note: string}).note, /no release older than .*stays on it/)
  assert.match((h['web2'] as {error: string}).error, /no current release \(kaops never applied here\)/)
})

test('what cannot be decided stops the rollback instead of skipping a host', () => {
  // A current release whose manifest cannot be read: it may or may not be the last apply's.
  const unreadable = decideRollback([
    host('dir1', rid(2, 2), [{id: rid(1, 1)}, {id: rid(2, 2), rollout: B, prev: rid(1, 1)}]),
    host('dir2', rid(2, 3), [{id: rid(1, 4)}, {id: rid(2, 3), unreadable: true}]),
  ])
  assert.deepEqual(moves(unreadable.hosts), {dir1: rid(1, 1), dir2: 'error'})
  assert.match((byHost(unreadable.hosts)['dir2'] as {error: string}).error, /no readable manifest\.json, so whether rollout .* made it is unknown.*--to/)
  // The release the last apply replaced was pruned: not silently some other one.
  const pruned = decideRollback([host('dir1', rid(3, 3), [{id: rid(2, 2), rollout: B, prev: rid(1, 1)}, {id: rid(3, 3), rollout: C, prev: rid(1, 1)}])])
  assert.deepEqual(moves(pruned.hosts), {dir1: 'error'})
  assert.match((pruned.hosts[0] as {error: string}).error, /replaced release .* no longer there/)
  // A host that could not be read hides its current release: nobody moves.
  const unread = decideRollback([host('dir1', rid(2, 2), [{id: rid(1, 1)}, {id: rid(2, 2), rollout: B, prev: rid(1, 1)}]), {host: 'dir2', current: null, releases: [], error: 'listing truncated'}])
  assert.deepEqual(moves(unread.hosts), {dir1: 'error', dir2: 'error'})
  assert.match((unread.hosts[0] as {error: string}).error, /cannot tell which apply was the last: dir2: listing truncated/)
})

test('rollout ids sort by time to the millisecond and are not release ids', () => {
  const a = makeRolloutId(new Date('2025-01-02T03:04:05.006Z'), '1a2b3c4d')
  assert.equal(a, '20250102T030405.006Z-1a2b3c4d')
  assert.ok(isRolloutId(a))
  assert.ok(!isReleaseId(a), 'never mistaken for a release (--to)')
  assert.ok(makeRolloutId(new Date('2025-01-02T03:04:05.007Z'), '00000000') > a)
  assert.throws(() => makeRolloutId(new Date(), 'xyz'), /8 hex digits/)
})

test('manifests record their rollout and predecessor; older manifests without them still read; `kaops releases` shows the rollout', () => {
  const opts = {now: new Date('2025-01-02T03:04:05Z'), createdBy: 'op@ops1', kaopsd: {sha256: 'c'.repeat(64)}}
  const d = director('dir1', '198.18.0.11', 150)
  const first = buildManifest(d, {...opts, rollout: A, previousRelease: null})
  const second = buildManifest(d, {...opts, now: new Date('2025-01-03T00:00:00Z'), rollout: B, previousRelease: first.id})
  assert.equal(first.rollout, A)
  assert.equal(first.previous_release, null)
  assert.equal(second.previous_release, first.id)
  const old = buildManifest(realServer('web1', '198.18.0.21'), opts)
  assert.ok(!('rollout' in old) && !('previous_release' in old), 'no rollout given, none written')
  assert.deepEqual(parseManifest(JSON.stringify(old)), old)
  assert.equal(parseManifest(JSON.stringify({...first, rollout: 7})), undefined, 'a rollout that is not a string is not trusted')
  assert.equal(parseManifest(JSON.stringify({...first, previous_release: 3})), undefined)

  const line = (m: ReleaseManifest) => `R ${m.id} ${Buffer.from(JSON.stringify(m)).toString('base64')}`
  const listed = parseReleaseListing('dir1', [`CUR ${second.id}`, line(first), line(second), 'END'].join('\n'))
  assert.equal(listed.releases[0]!.rollout, B)
  assert.equal(listed.releases[0]!.previous_release, first.id)
  assert.equal(listed.releases[1]!.previous_release, null)
  // The listing feeds the decision as it is.
  assert.deepEqual(moves(decideRollback([listed]).hosts), {dir1: first.id})
  const text = formatReleases([listed, parseReleaseListing('web1', [`CUR ${old.id}`, line(old), 'END'].join('\n'))])
  assert.match(text, new RegExp(`\\* ${second.id}  \\S+  rollout ${B} by op@ops1`))
  assert.match(text, new RegExp(`\\* ${old.id}  \\S+  rollout - by op@ops1`))
})
