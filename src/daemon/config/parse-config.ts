import {hostname} from 'node:os'
import {posix, resolve} from 'node:path'
import {emptyKeepalivedConfig, type Diagnostic, type KeepalivedConfig} from '../../model/keepalived-config.js'
import {nodeConfigFs, type ConfigFs} from './config-fs.js'
import {DiagnosticSink, sortDiagnostics} from './diagnostics.js'
import {runTable, type KeywordTable} from './keyword-table.js'
import {parseIpAddressLine, parseRouteLine, parseRuleLine} from './parse-addresses.js'
import {parseGlobalDefs} from './parse-global.js'
import {parseVirtualServer, parseVirtualServerGroup} from './parse-lvs.js'
import {parseVrrpInstance, parseVrrpScript, parseVrrpSyncGroup, parseVrrpTrackFile} from './parse-vrrp.js'
import {readConfigLines} from './reader.js'
import {checkSemantics} from './semantics.js'
import {buildTree, type ConfigNode} from './tree.js'
import {expectBlock} from './values.js'

export interface ParseOptions {
  /** keepalived's -i / --config-id, matched by `@id` lines; default: the short host name. */
  configId?: string
  /** File access for the file and its includes; default the real file system. */
  fs?: ConfigFs
  /** For ${_RANDOM}; default Math.random. */
  random?: () => number
}

export interface ParseResult {
  config: KeepalivedConfig
  /** Parse and host-independent semantic messages, in file order. */
  diagnostics: Diagnostic[]
  /** kaopsd's configHash of the files as parsed (no second read, so no race with an edit). */
  contentHash: string
}

/** Top-level keywords keepalived knows and kaopsd does not act on. */
const TOP_IGNORED = new Set([
  'linkbeat_interfaces', 'vrrp_track_process', 'bfd_instance', 'SSL', 'garp_group', 'net_namespace',
  'net_namespace_ipvs', 'namespace_with_ipsets', 'instance', 'use_pid_dir', 'child_wait_time',
  'track_group', 'vrrp_tracking', 'static_track_group',
])

export function defaultConfigId(): string {
  return hostname().split('.')[0] ?? ''
}

function buildConfig(sink: DiagnosticSink, nodes: ConfigNode[]): KeepalivedConfig {
  const config = emptyKeepalivedConfig()
  // global_defs first: instances inherit its VRRP defaults wherever it is written.
  for (const node of nodes) if (node.keyword === 'global_defs') parseGlobalDefs(sink, node, config.globalDefs)
  const table: KeywordTable<KeepalivedConfig> = {
    block: 'the top level',
    ignored: TOP_IGNORED,
    handlers: {
      global_defs: () => {},
      static_ipaddress: (n, c) => {
        for (const child of expectBlock(sink, n)) {
          const a = parseIpAddressLine(sink, child, 'static_ipaddress')
          if (a) c.staticIpAddresses.push(a)
        }
      },
      static_routes: (n, c) => {
        for (const child of expectBlock(sink, n)) {
          const r = parseRouteLine(sink, child, 'static_routes')
          if (r) c.staticRoutes.push(r)
        }
      },
      static_rules: (n, c) => {
        for (const child of expectBlock(sink, n)) {
          const r = parseRuleLine(sink, child, 'static_rules')
          if (r) c.staticRules.push(r)
        }
      },
      vrrp_script: (n, c) => {
        c.vrrpScripts.push(parseVrrpScript(sink, n))
      },
      vrrp_track_file: (n, c) => {
        c.vrrpTrackFiles.push(parseVrrpTrackFile(sink, n))
      },
      vrrp_sync_group: (n, c) => {
        c.vrrpSyncGroups.push(parseVrrpSyncGroup(sink, n))
      },
      vrrp_instance: (n, c) => {
        c.vrrpInstances.push(parseVrrpInstance(sink, n, c.globalDefs))
      },
      virtual_server_group: (n, c) => {
        c.virtualServerGroups.push(parseVirtualServerGroup(sink, n))
      },
      virtual_server: (n, c) => {
        const vs = parseVirtualServer(sink, n)
        if (vs) c.virtualServers.push(vs)
      },
    },
  }
  runTable(sink, nodes, table, config)
  return config
}

async function parseFrom(path: string, opts: ParseOptions, fs: ConfigFs): Promise<ParseResult> {
  const read = await readConfigLines(path, {
    configId: opts.configId ?? defaultConfigId(),
    fs,
    ...(opts.random ? {random: opts.random} : {}),
  })
  const sink = new DiagnosticSink()
  sink.items.push(...read.diagnostics)
  const tree = buildTree(read.lines, sink.items)
  const config = buildConfig(sink, tree)
  config.files = read.files
  checkSemantics(config, sink)
  return {config, diagnostics: sortDiagnostics(sink.items, read.files), contentHash: read.contentHash}
}

/** Parse a keepalived.conf (and its includes) from disk, or from `opts.fs`. */
export async function parseConfigFile(path: string, opts: ParseOptions = {}): Promise<ParseResult> {
  return parseFrom(resolve(path), opts, opts.fs ?? nodeConfigFs)
}

/**
 * Parse configuration text as if it were the file `fileName` (includes are resolved next to
 * it, through `opts.fs` or the real file system).
 */
export async function parseConfigText(text: string, fileName: string, opts: ParseOptions = {}): Promise<ParseResult> {
  const path = posix.isAbsolute(fileName) ? fileName : resolve(fileName)
  const inner = opts.fs ?? nodeConfigFs
  const fs: ConfigFs = {
    readFile: async (p) => (p === path ? text : inner.readFile(p)),
    readdir: async (p) => inner.readdir(p),
    isDirectory: async (p) => inner.isDirectory(p),
  }
  return parseFrom(path, opts, fs)
}
