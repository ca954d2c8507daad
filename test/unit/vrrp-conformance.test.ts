/**
 * Golden traces (holo's model): each test/conformance/<case>/events.json lists routers and the
 * inputs they get on a virtual clock; expected.json is every step that follows (state, priority,
 * actions, including timer expiries and adverts delivered between routers). A change of
 * behaviour shows up as a diff here; when it is on purpose, regenerate with
 *   KAOPS_UPDATE_GOLDEN=1 node --import tsx --test test/unit/vrrp-conformance.test.ts
 * and review the diff of expected.json like code.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {runLan, type LanInput} from '../../src/daemon/vrrp/virtual-clock.js'
import type {RouterConfig, RouterEvent} from '../../src/daemon/vrrp/router.js'
import {passwordBytes, type Advert} from '../../src/daemon/vrrp/packet.js'
import {routerConfig} from './vrrp-fixtures.js'

const root = fileURLToPath(new URL('../conformance/', import.meta.url))
const update = process.env.KAOPS_UPDATE_GOLDEN === '1'

interface CaseFile {
  description: string
  rfc: string
  routers: Record<string, Partial<RouterConfig>>
  latencyMs: number
  untilMs: number
  inputs: {at: number; router: string; event: Record<string, unknown>}[]
}

/** Events in JSON name only what differs from a valid advert for the receiving router. */
function toEvent(raw: Record<string, unknown>, cfg: RouterConfig): RouterEvent | {kind: 'crash'} {
  if (raw.kind !== 'advert') return raw as unknown as RouterEvent
  const a = (raw.advert ?? {}) as Partial<Advert> & {authPassword?: string}
  const password = a.authPassword ?? (cfg.auth.type === 'pass' ? cfg.auth.password : undefined)
  const advert: Advert = {
    version: a.version ?? cfg.version,
    vrid: a.vrid ?? cfg.vrid,
    priority: a.priority ?? 100,
    advertIntervalCs: a.advertIntervalCs ?? cfg.advertIntervalCs,
    addresses: a.addresses ?? cfg.addresses,
    authType: a.authType ?? (cfg.auth.type === 'pass' ? 1 : 0),
    authData: password === undefined ? new Uint8Array(8) : passwordBytes(password),
    checksum: 0,
  }
  return {kind: 'advert', advert, src: raw.src as string, dst: (raw.dst as string) ?? '224.0.0.18', ttl: (raw.ttl as number) ?? 255}
}

/** Stable JSON: byte arrays as hex. */
function serialise(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v), 2) + '\n'
}

const cases = readdirSync(root, {withFileTypes: true}).filter((d) => d.isDirectory()).map((d) => d.name).sort()

test('there are conformance cases', () => {
  assert.ok(cases.length >= 20, `${cases.length} cases`)
})

for (const name of cases) {
  test(`conformance: ${name}`, () => {
    const dir = join(root, name)
    const spec = JSON.parse(readFileSync(join(dir, 'events.json'), 'utf8')) as CaseFile
    const configs = Object.fromEntries(Object.entries(spec.routers).map(([r, over]) => [r, routerConfig({name: r, ...over})]))
    const inputs: LanInput[] = spec.inputs.map((i) => ({at: i.at, router: i.router, event: toEvent(i.event, configs[i.router]!)}))
    const {steps, routers} = runLan(configs, inputs, spec.untilMs, spec.latencyMs)
    const trace = {
      case: name,
      description: spec.description,
      rfc: spec.rfc,
      steps,
      final: Object.fromEntries(Object.entries(routers).map(([r, s]) => [r, {state: s.state, effectivePriority: s.effectivePriority, counters: s.counters}])),
    }
    const actual = serialise(trace)
    const file = join(dir, 'expected.json')
    if (update) {
      writeFileSync(file, actual)
      return
    }
    assert.ok(existsSync(file), `${file} is missing: run with KAOPS_UPDATE_GOLDEN=1 and review it`)
    assert.equal(actual, readFileSync(file, 'utf8'), `${name}: behaviour differs from ${file}`)
  })
}
