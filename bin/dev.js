#!/usr/bin/env node
// Development entry: runs the TypeScript sources directly through tsx, no build needed.
// oclif's own tsx hook-up fails with this tsx version (it resolves tsx's CommonJS API, which
// then cannot find its ESM half) and falls back to dist/, so: register tsx here and point oclif
// at src/commands.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {register} from 'tsx/esm/api'
import {Config, Plugin, execute, settings} from '@oclif/core'

register()
settings.enableAutoTranspile = false
const root = fileURLToPath(new URL('..', import.meta.url))
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
pjson.oclif.commands = './src/commands'
// Our hooks likewise, from src (oclif finds the .ts with the extension left off).
for (const [event, target] of Object.entries(pjson.oclif.hooks ?? {})) pjson.oclif.hooks[event] = target.replace(/^\.\/dist\//, './src/')
// `npm run build` writes oclif.manifest.json, which describes and points at dist/commands: read
// here it would run the built commands (and list a stale set) instead of src. So the root
// plugin is loaded without it, and the other plugins (help, autocomplete) are loaded
// around it as usual.
const rootPlugin = new Plugin({root, pjson, isRoot: true, ignoreManifest: true})
await rootPlugin.load()
const config = new Config({root, pjson, plugins: new Map([[rootPlugin.name, rootPlugin]])})
await config.load()
await config.loadPluginsAndCommands({force: true})
await execute({development: true, loadOptions: config})
