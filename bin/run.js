#!/usr/bin/env node
// oclif entry: commands are loaded from ./dist/commands (run `npm run build` first).
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
