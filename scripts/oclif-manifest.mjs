#!/usr/bin/env node
// Writes oclif.manifest.json (part of `npm run build`, after tsc): every command's id, summary,
// flags and args, and the file it lives in under dist/commands. With it, bin/run.js imports
// only the command being run; without it, oclif imports every command (and everything those
// import) on each start just to list them.
//
// The manifest is what @oclif/core itself assembles in memory when a plugin has none: a root
// Plugin loaded with ignoreManifest reads each command class from dist/commands. Errors are
// fatal here (errorOnManifestCreate), so a command that fails to load fails the build instead
// of silently missing from the CLI. The file is a build output beside dist/ (gitignored).
// bin/dev.js ignores it: it loads src/commands, which the manifest does not describe.
import {renameSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Plugin} from '@oclif/core'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'oclif.manifest.json')

try {
  const plugin = new Plugin({root, isRoot: true, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true})
  await plugin.load()
  const ids = Object.keys(plugin.manifest.commands)
  if (ids.length === 0) throw new Error(`no commands found under ${plugin.pjson.oclif.commands} (run tsc first)`)
  // Atomic: a run of bin/run.js during the build sees the old manifest or the new one, never half.
  writeFileSync(`${out}.tmp`, `${JSON.stringify(plugin.manifest, null, 2)}\n`)
  renameSync(`${out}.tmp`, out)
} catch (error) {
  console.error(`oclif-manifest: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
