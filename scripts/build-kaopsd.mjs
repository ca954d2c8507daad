#!/usr/bin/env node
// Builds dist/kaopsd: ONE self-contained executable (a Node single executable application).
//
//   1. native/kaops_raw.c -> native/build/kaops_raw.node (cc, against this Node's headers)
//   2. src/daemon/main.ts -> dist/kaopsd.cjs (esbuild: one CommonJS file; SEA needs CommonJS)
//   3. SEA blob embedding the bundle and, as the asset `kaops_raw.node`, the addon
//   4. a copy of this node binary (symbols stripped when `strip` exists), the blob injected
//      with postject, written atomically to dist/kaopsd
//
// Quiet on success (one summary line on stderr); on failure, one clear line saying which step
// failed and why, then exit 1. Steps 3-4 are skipped when their inputs did not change.
//
//   node scripts/build-kaopsd.mjs               everything
//   node scripts/build-kaopsd.mjs --addon-only  just the addon (what tests under tsx load)
import {execFileSync, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync,
  statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const addonSource = join(root, 'native/kaops_raw.c')
const addonOut = join(root, 'native/build/kaops_raw.node')
const entry = join(root, 'src/daemon/main.ts')
const dist = join(root, 'dist')
const bundleOut = join(dist, 'kaopsd.cjs')
const exeOut = join(dist, 'kaopsd')
const stampOut = join(dist, 'kaopsd.stamp')
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'
const ADDON_ASSET = 'kaops_raw.node'

class BuildError extends Error {}

function fail(step, message) {
  throw new BuildError(`build-kaopsd: ${step} failed: ${message}`)
}

function run(step, file, args, opts = {}) {
  const res = spawnSync(file, args, {encoding: 'utf8', ...opts})
  if (res.error) fail(step, `${file}: ${res.error.code === 'ENOENT' ? 'not found on PATH' : res.error.message}`)
  if (res.status !== 0) {
    const out = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim()
    fail(step, `${file} ${args.join(' ')} exited ${res.status ?? res.signal}${out ? `:\n${out}` : ''}`)
  }
  return res
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0
}

/** The directory holding node_api.h and uv.h for the running Node. */
function nodeHeaders() {
  const candidates = [
    process.env.KAOPS_NODE_HEADERS,
    resolve(dirname(process.execPath), '../include/node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean)
  const found = candidates.find((d) => existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')))
  if (!found) {
    fail('addon', `Node's C headers (node_api.h, uv.h) not found in ${candidates.join(', ')}; ` +
      'install the headers of this Node (nodesource and Debian nodejs packages ship them in /usr/include/node) ' +
      'or set KAOPS_NODE_HEADERS')
  }
  return found
}

/** Compiles the addon unless it is newer than its source and this script. */
function buildAddon() {
  const newest = Math.max(mtime(addonSource), mtime(fileURLToPath(import.meta.url)))
  if (mtime(addonOut) > newest) return false
  mkdirSync(dirname(addonOut), {recursive: true})
  const cc = process.env.CC || 'cc'
  const tmp = `${addonOut}.tmp-${process.pid}`
  run('addon', cc, [
    '-shared', '-fPIC', '-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-fvisibility=hidden',
    '-DNODE_GYP_MODULE_NAME=kaops_raw', `-I${nodeHeaders()}`, '-o', tmp, addonSource,
  ])
  renameSync(tmp, addonOut)
  return true
}

async function bundle(version) {
  let esbuild
  try {
    esbuild = await import('esbuild')
  } catch {
    fail('bundle', 'esbuild is not installed (run npm ci)')
  }
  let result
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      outfile: bundleOut,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // Native pieces travel as SEA assets, never inside the bundle.
      external: ['*.node'],
      define: {
        KAOPSD_VERSION: JSON.stringify(version),
        // Only the unbundled code paths (tsx, tests) read import.meta.url; they never run here.
        'import.meta.url': JSON.stringify('file:///kaopsd/'),
      },
      legalComments: 'none',
      logLevel: 'silent',
      write: true,
    })
  } catch (err) {
    const msgs = (err.errors ?? []).map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`)
    fail('bundle', msgs.length ? msgs.join('\n') : err.message)
  }
  const warnings = result.warnings.map((w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`)
  // A CommonJS bundle has no import.meta: code that needs it would silently get {}.
  const fatal = warnings.filter((w) => /import\.meta/.test(w))
  if (fatal.length) fail('bundle', `the daemon must not use import.meta (beyond import.meta.url in unbundled-only paths):\n${fatal.join('\n')}`)
  for (const w of warnings) process.stderr.write(`build-kaopsd: warning: ${w}\n`)
}

function stampOf(version) {
  const h = createHash('sha256')
  h.update(readFileSync(bundleOut))
  h.update(readFileSync(addonOut))
  h.update(`${process.execPath}\0${statSync(process.execPath).mtimeMs}\0${version}\0`)
  h.update(readFileSync(fileURLToPath(import.meta.url)))
  return h.digest('hex')
}

async function buildExecutable() {
  const work = mkdtempSync(join(tmpdir(), 'kaopsd-build-'))
  try {
    const blob = join(work, 'sea.blob')
    const config = join(work, 'sea-config.json')
    writeFileSync(config, JSON.stringify({
      main: bundleOut,
      output: blob,
      disableExperimentalSEAWarning: true,
      // V8 code cache in the blob: the bundle is not re-compiled at every start.
      useCodeCache: true,
      useSnapshot: false,
      assets: {[ADDON_ASSET]: addonOut},
    }))
    run('SEA blob', process.execPath, ['--experimental-sea-config', config], {cwd: work})

    const exe = join(work, 'kaopsd')
    copyFileSync(process.execPath, exe)
    chmodSync(exe, 0o755)
    // The symbol table and debug info are a seventh of the binary and unused at run time; the
    // dynamic symbols the addon links against (napi_*, uv_*) stay. Optional: no strip, no loss.
    spawnSync('strip', ['--strip-all', exe], {stdio: 'ignore'})

    let postject
    try {
      postject = await import('postject')
    } catch {
      fail('inject', 'postject is not installed (run npm ci)')
    }
    const inject = postject.inject ?? postject.default?.inject
    // postject's ELF library chatters on console.warn (harmless section-name notes); keep it and
    // show it only if injection fails.
    const chatter = []
    const warn = console.warn
    console.warn = (...args) => chatter.push(args.join(' '))
    try {
      await inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), {sentinelFuse: SENTINEL_FUSE})
    } catch (err) {
      fail('inject', `${err.message}${chatter.length ? `\n${chatter.join('\n')}` : ''}`)
    } finally {
      console.warn = warn
    }
    // Same filesystem as dist/ is not guaranteed for tmpdir: copy next to the target, then rename.
    const staged = `${exeOut}.tmp-${process.pid}`
    copyFileSync(exe, staged)
    chmodSync(staged, 0o755)
    renameSync(staged, exeOut)
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

async function main() {
  const started = process.hrtime.bigint()
  const addonOnly = process.argv.includes('--addon-only')
  if (!existsSync(addonSource)) fail('addon', `${addonSource} is missing`)
  buildAddon()
  if (addonOnly) return

  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version
  mkdirSync(dist, {recursive: true})
  await bundle(version)

  const stamp = stampOf(version)
  const fresh = existsSync(exeOut) && existsSync(stampOut) && readFileSync(stampOut, 'utf8') === stamp
  if (!fresh) {
    await buildExecutable()
    writeFileSync(stampOut, stamp)
  }
  // A build that runs nothing proves nothing: the executable must at least start.
  const line = execFileSync(exeOut, ['--version'], {encoding: 'utf8', env: {PATH: '/nonexistent'}}).trim()
  if (!line.includes(version)) fail('smoke test', `dist/kaopsd --version printed '${line}'`)
  const secs = Number(process.hrtime.bigint() - started) / 1e9
  const mb = (statSync(exeOut).size / 1e6).toFixed(1)
  process.stderr.write(`build-kaopsd: dist/kaopsd ${version}, ${mb} MB, ${fresh ? 'up to date' : 'built'} in ${secs.toFixed(1)} s\n`)
}

main().catch((err) => {
  process.stderr.write(`${err instanceof BuildError ? err.message : `build-kaopsd: ${err.stack ?? err}`}\n`)
  process.exit(1)
})
