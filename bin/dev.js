#!/usr/bin/env node
// Development entry: runs the TypeScript sources directly through tsx, no build needed.
// oclif's own tsx hook-up fails with this tsx version (it resolves tsx's CommonJS API, which
// then cannot find its ESM half) and falls back to dist/, so: register tsx here and point oclif
// at src/commands.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {register} from 'tsx/esm/api'
import {execute, settings} from '@oclif/core'

register()
settings.enableAutoTranspile = false
const root = fileURLToPath(new URL('..', import.meta.url))
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
pjson.oclif.commands = './src/commands'
await execute({development: true, dir: import.meta.url, loadOptions: {root, pjson}})
