import {createHash} from 'node:crypto'
import {readFile, realpath, rm, writeFile} from 'node:fs/promises'
import type {Server} from 'node:net'
import type {KeepalivedConfig} from '../model/keepalived-config.js'
import type {KaopsdStatus} from '../model/kaopsd-status.js'
import type {DaemonOptions} from './cli-args.js'
import {formatDiagnostic, parseConfigFile} from './config/index.js'
import {startControlServer} from './control/control-server.js'
import {Logger, consoleSink, type LogSink} from './core/logger.js'
import {VrrpService} from './core/vrrp-service.js'
import {kaopsdVersion} from './version.js'

/**
 * kaopsd's main loop: load the configuration, run the VRRP instances, answer on the control
 * socket, and react to keepalived's signals (HUP reload, TERM/INT stop). Resolves to the exit
 * code once stopped.
 */
export async function runDaemon(options: DaemonOptions, writeErr: (line: string) => void): Promise<number> {
  const sinks: LogSink[] = []
  if (options.logConsole) sinks.push(consoleSink)
  else sinks.push({write: (_s, line) => writeErr(line)})
  const log = new Logger({tag: 'kaopsd', facility: options.logFacility, detail: options.logDetail, sinks})

  const loaded = await loadConfig(options)
  for (const line of loaded.messages) log.warning(line)
  if (!loaded.config) {
    log.error(`${options.configFile}: configuration has errors, not starting`)
    return 1
  }
  let config = loaded.config
  let configHash = loaded.hash
  const startedAt = Date.now()
  const release = await releaseOf(process.execPath)

  const vrrpLog = log.withTag('kaopsd_vrrp')
  const vrrp = new VrrpService({log: vrrpLog})
  const runVrrp = !options.checkOnly

  const status = (): KaopsdStatus => ({
    format_version: 1,
    version: kaopsdVersion(),
    pid: process.pid,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    configPath: options.configFile,
    configHash,
    release,
    instances: vrrp.status(),
    virtualServers: [],
  })

  // Reloads and stops are serialised: a HUP during a HUP waits its turn.
  let chain: Promise<unknown> = Promise.resolve()
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work)
    chain = next.catch(() => undefined)
    return next
  }

  const reload = () =>
    serial(async () => {
      const next = await loadConfig(options)
      for (const line of next.messages) log.warning(line)
      if (!next.config) {
        // keepalived exits here; keeping the running configuration is the safer answer.
        log.error(`reload refused: ${options.configFile} has errors; still running the previous configuration`)
        throw new Error(`${options.configFile} has errors; the previous configuration stays`)
      }
      if (next.hash === configHash) {
        log.notice('reload: configuration unchanged')
        return {kept: vrrp.instanceNames, changed: [], added: [], removed: []}
      }
      config = next.config
      configHash = next.hash
      const diff = runVrrp ? await vrrp.reload(config) : {kept: [], changed: [], added: [], removed: []}
      log.notice(`reload: kept ${diff.kept.length}, changed ${diff.changed.join(',') || 'none'}, added ${diff.added.join(',') || 'none'}, removed ${diff.removed.join(',') || 'none'}`)
      return diff
    })

  let control: Server | undefined
  try {
    control = await startControlServer(options.controlSocket, async (command) => {
      if (command === 'status') return status()
      if (command === 'reload') return reload()
      throw new Error(`unknown command "${command}" (status, reload)`)
    })
  } catch (err) {
    log.error(`control socket ${options.controlSocket}: ${String(err)}`)
    return 1
  }
  if (options.pidFile) await writeFile(options.pidFile, `${process.pid}\n`)

  log.notice(`Starting kaopsd ${kaopsdVersion()} (config ${options.configFile}, ${config.vrrpInstances.length} VRRP instance(s))`)
  if (runVrrp) {
    try {
      await vrrp.start(config)
    } catch (err) {
      log.error(`cannot start VRRP: ${err instanceof Error ? err.message : String(err)}`)
      await vrrp.stop(!options.dontReleaseVrrp)
      control.close()
      return 1
    }
  }

  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      log.notice(`Stopping (${signal})`)
      void serial(async () => {
        await vrrp.stop(!options.dontReleaseVrrp)
        control?.close()
        await rm(options.controlSocket, {force: true})
        if (options.pidFile) await rm(options.pidFile, {force: true})
        log.notice('Stopped')
      }).finally(() => resolve(0))
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGHUP', () => {
      log.notice('Reloading (SIGHUP)')
      reload().catch(() => undefined)
    })
  })
}

async function loadConfig(options: DaemonOptions): Promise<{config?: KeepalivedConfig; hash: string; messages: string[]}> {
  try {
    const {config, diagnostics} = await parseConfigFile(options.configFile, options.configId === undefined ? {} : {configId: options.configId})
    const messages = diagnostics.map(formatDiagnostic)
    const hash = createHash('sha256')
    for (const f of config.files) hash.update(f).update('\0').update(await readFile(f)).update('\0')
    const failed = diagnostics.some((d) => d.severity === 'error')
    return failed ? {hash: '', messages} : {config, hash: hash.digest('hex'), messages}
  } catch (err) {
    return {hash: '', messages: [`${options.configFile}: ${err instanceof Error ? err.message : String(err)}`]}
  }
}

/** /opt/kaops/releases/<id>/kaopsd -> <id>, so status tells which release is running. */
async function releaseOf(execPath: string): Promise<string | null> {
  try {
    const m = /\/releases\/([^/]+)\/[^/]+$/.exec(await realpath(execPath))
    return m ? m[1]! : null
  } catch {
    return null
  }
}
