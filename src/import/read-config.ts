// The CLI imports the daemon's keepalived.conf parser here, and only here: `kaops import` must
// read exactly what kaopsd reads. The config model is the one thing the CLI and daemon share.
import {resolve} from 'node:path'
import {parseConfigFile, type ConfigFs} from '../daemon/config/index.js'
import {readConfigLines} from '../daemon/config/reader.js'
import {buildTree, type ConfigNode} from '../daemon/config/tree.js'
import type {Diagnostic, KeepalivedConfig} from '../model/keepalived-config.js'

/** One director's keepalived.conf as the importer needs it: the model and the statement tree. */
export interface DirectorSource {
  /** Director name when known (the SSH host's name); else router_id or the file name. */
  name?: string
  /** Main file path as the operator knows it (local path or host:path). */
  file: string
  /** Address with prefix when known (--address, or the SSH host's own address). */
  address?: string
  config: KeepalivedConfig
  /** Top-level statements with their blocks, for carrying unmapped ones over verbatim. */
  tree: ConfigNode[]
  diagnostics: Diagnostic[]
}

/**
 * Parse `path` (with its includes) through `fs`. The config id is fixed to '' so `@host` lines
 * are read as keepalived on an unnamed host would; the operator is warned about them.
 */
export async function readDirectorConfig(given: string, fs: ConfigFs, extra: {name?: string; address?: string; label?: string} = {}): Promise<DirectorSource> {
  const path = resolve(given)
  const parsed = await parseConfigFile(path, {fs, configId: ''})
  const read = await readConfigLines(path, {fs, configId: ''})
  const diagnostics: Diagnostic[] = []
  const tree = buildTree(read.lines, diagnostics)
  const src: DirectorSource = {file: extra.label ?? given, config: parsed.config, tree, diagnostics: parsed.diagnostics}
  if (extra.name !== undefined) src.name = extra.name
  if (extra.address !== undefined) src.address = extra.address
  return src
}
