import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {after, before, test} from 'node:test'
import {checkConfigFile, formatDiagnostic, nodeHostEnv} from '../../src/daemon/config/index.js'

// keepalived's own sample configs: `kaopsd -t` (checkConfigFile) must agree with
// `keepalived -t` on which are clean. Both see the same interfaces: keepalived runs in a
// fresh network namespace holding a veth pair named eth0/eth1 (what the samples use), and
// checkConfigFile is given that namespace's interface list.

const SAMPLES = '/usr/share/doc/keepalived/samples'
const NS = `kaops-cfgs-${process.pid}`

// Samples where kaopsd and keepalived may legitimately differ, with the reason. Empty today:
// every sample agrees. An entry here is asserted to still differ, so it cannot go stale.
const KNOWN_DIFFERENCES: Record<string, string> = {}

function keepalivedPath(): string | undefined {
  for (const p of ['/usr/sbin/keepalived', '/sbin/keepalived', '/usr/local/sbin/keepalived']) if (existsSync(p)) return p
  return undefined
}

const keepalived = keepalivedPath()
const skipReason = !keepalived
  ? 'keepalived is not installed (apt-get install keepalived)'
  : process.getuid?.() !== 0
    ? 'needs root to create a network namespace'
    : !existsSync(SAMPLES)
      ? `no samples under ${SAMPLES}`
      : undefined

let nsReady = false
let interfaces: string[] = []

before(() => {
  if (skipReason) return
  execFileSync('ip', ['netns', 'add', NS])
  nsReady = true
  execFileSync('ip', ['-n', NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1'])
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up'])
  interfaces = execFileSync('ip', ['netns', 'exec', NS, 'ls', '/sys/class/net'], {encoding: 'utf8'}).split(/\s+/).filter(Boolean)
})

after(() => {
  if (nsReady) spawnSync('ip', ['netns', 'del', NS])
})

function keepalivedClean(file: string): {clean: boolean; output: string} {
  const r = spawnSync('ip', ['netns', 'exec', NS, keepalived!, '-t', '-l', '-f', file], {encoding: 'utf8', timeout: 30_000})
  return {clean: r.status === 0, output: `${r.stdout}${r.stderr}`.trim()}
}

test('keepalived -t and kaopsd checkConfigFile agree on every sample', async (t) => {
  if (skipReason) {
    t.skip(skipReason)
    return
  }
  assert.deepEqual([...interfaces].sort(), ['eth0', 'eth1', 'lo'])
  const env = {...nodeHostEnv(), listInterfaces: () => interfaces}
  const samples = readdirSync(SAMPLES).filter((f) => f.startsWith('keepalived.conf')).sort()
  assert.ok(samples.length >= 10, `expected keepalived's samples, found ${samples.length}`)
  const disagreements: string[] = []
  const stillDiffering: string[] = []
  let clean = 0
  for (const sample of samples) {
    const file = `${SAMPLES}/${sample}`
    const theirs = keepalivedClean(file)
    const ours = await checkConfigFile(file, {env, configId: 'kaops-sample-test'})
    if (theirs.clean) clean++
    const agree = theirs.clean === ours.ok
    if (sample in KNOWN_DIFFERENCES) {
      if (!agree) stillDiffering.push(sample)
      continue
    }
    if (!agree) {
      disagreements.push(
        `${sample}: keepalived says ${theirs.clean ? 'clean' : 'NOT clean'}, kaopsd says ${ours.ok ? 'clean' : 'NOT clean'}\n` +
          `  keepalived: ${theirs.output.replace(/\n/g, '\n    ')}\n` +
          `  kaopsd: ${ours.diagnostics.map(formatDiagnostic).join('\n    ')}`,
      )
    }
  }
  assert.deepEqual(disagreements, [], disagreements.join('\n'))
  assert.deepEqual(stillDiffering.sort(), Object.keys(KNOWN_DIFFERENCES).sort())
  // Both outcomes occur among the samples, so the comparison means something.
  assert.ok(clean > 0 && clean < samples.length, `clean samples: ${clean} of ${samples.length}`)
})
