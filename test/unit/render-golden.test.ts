// Golden files: every host's rendered files for the seeds' setups and the prod example.
// Regenerate on purpose with KAOPS_UPDATE_GOLDEN=1 and review the diff in git.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, statSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import type {DesiredHost} from '../../src/model/desired-state.js'
import {CASES, GOLDEN, renderCase} from '../golden/cases.js'

const UPDATE = process.env.KAOPS_UPDATE_GOLDEN === '1'

/** Everything but file contents, so a model change shows up too. */
function summary(hosts: DesiredHost[]): string {
  const s = hosts.map((h) => ({...h, files: h.files.map((f) => ({path: f.path, mode: `0${f.mode.toString(8)}`, secrets: f.secrets?.length ?? 0}))}))
  return `${JSON.stringify(s, null, 2)}\n`
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e)
      if (statSync(p).isDirectory()) walk(p)
      else out.push(relative(dir, p))
    }
  }
  walk(dir)
  return out
}

for (const [name, inventory] of CASES) {
  test(`golden: ${name}`, () => {
    const {hosts} = renderCase(inventory)
    const outDir = join(GOLDEN, name, 'out')
    const expected = new Map<string, string>([['hosts.json', summary(hosts)]])
    for (const h of hosts) for (const f of h.files) expected.set(join(h.name, f.path), f.content)
    if (UPDATE) {
      rmSync(outDir, {recursive: true, force: true})
      for (const [rel, content] of expected) {
        mkdirSync(dirname(join(outDir, rel)), {recursive: true})
        writeFileSync(join(outDir, rel), content)
      }
    }
    assert.deepEqual(listFiles(outDir).sort(), [...expected.keys()].sort(), `files under test/golden/${name}/out (KAOPS_UPDATE_GOLDEN=1 to regenerate)`)
    for (const [rel, content] of expected) {
      assert.equal(content, readFileSync(join(outDir, rel), 'utf8'), `test/golden/${name}/out/${rel} differs (KAOPS_UPDATE_GOLDEN=1 to regenerate)`)
    }
  })
}
