import {realpath, rm, writeFile} from 'node:fs/promises'
import type {Server} from 'node:net'
import type {KeepalivedConfig} from '../model/keepalived-config.js'
import type {KaopsdStatus, TakeoverAnswer} from '../model/kaopsd-status.js'
import type {DaemonOptions} from './cli-args.js'
import {formatDiagnostic, parseConfigFile} from './config/index.js'
import {startControlServer} from './control/control-server.js'
import {parseTakeoverEndRequest, parseTakeoverRequest} from './control/takeover-request.js'
import {Logger, consoleSink, type LogSink} from './core/logger.js'
import {VrrpService, stateName} from './core/vrrp-service.js'
import {CheckService} from './core/check-service.js'
import type {Transition} from './core/vrrp-instance.js'
import {installDumpSignals, syncGroupState} from './control/dump-files.js'
import {startMetricsServer, type MetricsServer} from './control/metrics.js'
import {Notifier} from './notify/index.js'
import {ScriptRunner} from './os/script-runner.js'
import {syslogSink} from './os/syslog-sink.js'
import type {ScriptExecutor} from './core/track-script.js'
import {kaopsdVersion} from './version.js'

/**
 * kaopsd's main loop: load the configuration, run the VRRP instances, answer on the control
 * socket, and react to keepalived's signals (HUP reload, TERM/INT stop). Resolves to the exit
 * code once stopped.
 */
export async function runDaemon(options: DaemonOptions, writeErr: (line: string) => void): Promise<number> {
  const sinks: LogSink[] = []
  if (options.logConsole) sinks.push(consoleSink)
  if (!options.noSyslog) {
    try {
      sinks.push(syslogSink())
    } catch (err) {
      writeErr(`kaopsd: syslog unavailable (${err instanceof Error ? err.message : String(err)}); logging to the console`)
      if (!options.logConsole) sinks.push(consoleSink)
    }
  }
  if (sinks.length === 0) sinks.push({write: (_s, line) => writeErr(line)})
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
  // Notify scripts and track scripts run through one runner: configured user, clean
  // environment, timeouts, and enable_script_security's refusal of unsafe scripts.
  const makeRunner = (c: KeepalivedConfig) =>
    new ScriptRunner({
      ...(c.globalDefs.scriptUser ? {scriptUser: c.globalDefs.scriptUser} : {}),
      enableScriptSecurity: c.globalDefs.enableScriptSecurity,
      log: (severity, message) => vrrpLog.log(severity, message),
    })
  let scripts = makeRunner(config)
  const notifyLog = {error: (m: string) => log.error(m), warning: (m: string) => log.warning(m), info: (m: string) => log.info(m), debug: (m: string) => log.debug(m)}
  let notifier = new Notifier({config, runner: scripts, log: notifyLog})
  notifier.start()
  const groupStates = new Map<string, string>()
  const onTransition = (t: Transition) => {
    notifier.notify({kind: 'INSTANCE', name: t.instance, from: stateName(t.from), to: stateName(t.to), priority: t.priority, reason: t.reason, at: t.at})
    // A sync group is announced when all its members agree on a new state.
    const all = vrrp.status()
    for (const g of config.vrrpSyncGroups) {
      if (!g.instances.includes(t.instance)) continue
      const members = all.filter((i) => g.instances.includes(i.name))
      if (members.some((m) => m.state !== members[0]!.state)) continue
      const state = syncGroupState(members)
      const before = groupStates.get(g.name) ?? 'INIT'
      if (state === before) continue
      groupStates.set(g.name, state)
      notifier.notify({kind: 'GROUP', name: g.name, from: before as never, to: state, priority: 0, reason: t.reason, at: t.at})
    }
  }
  const trackExecutor: ScriptExecutor = async (script) => {
    if (!script.script) return {ok: false, detail: 'no script'}
    const res = await scripts.run(script.script, {timeoutMs: script.timeoutMs})
    return {ok: res.status === 'ok', detail: res.detail}
  }
  const vrrp = new VrrpService({log: vrrpLog, onTransition, scriptExecutor: trackExecutor})
  const runVrrp = !options.checkOnly
  // The checker subsystem (virtual_server blocks); -P runs VRRP alone.
  const runChecks = !options.vrrpOnly
  const checks = new CheckService({log: log.withTag('kaopsd_healthcheckers'), scripts: () => scripts})

  const status = (): KaopsdStatus => ({
    format_version: 1,
    version: kaopsdVersion(),
    pid: process.pid,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    configPath: options.configFile,
    configHash,
    release,
    instances: vrrp.status(),
    virtualServers: checks.status(),
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
      const oldNotifier = notifier
      scripts = makeRunner(config)
      notifier = new Notifier({config, runner: scripts, log: notifyLog})
      notifier.start()
      void oldNotifier.stop()
      const diff = runVrrp ? await vrrp.reload(config) : {kept: [], changed: [], added: [], removed: []}
      log.notice(`reload: kept ${diff.kept.length}, changed ${diff.changed.join(',') || 'none'}, added ${diff.added.join(',') || 'none'}, removed ${diff.removed.join(',') || 'none'}`)
      if (runChecks) {
        const c = await checks.reload(config)
        log.notice(`reload checkers: kept ${c.kept.length}, changed ${c.changed.join(',') || 'none'}, added ${c.added.join(',') || 'none'}, removed ${c.removed.join(',') || 'none'}; data plane: ${c.changes} change(s)`)
      }
      // Only now does status report the new configuration: a reload that failed part way keeps
      // the old hash, so whoever checks (kaops apply's gate, verify) sees it was not taken.
      configHash = next.hash
      return diff
    })

  let control: Server | undefined
  try {
    control = await startControlServer(options.controlSocket, async (request) => {
      const {command} = request
      if (command === 'status') return status()
      if (command === 'reload') return reload()
      if (command === 'takeover') {
        const t = parseTakeoverRequest(request)
        return serial(async (): Promise<TakeoverAnswer> => ({command, instances: vrrp.takeover(t.instances, t.leaseSeconds * 1000, t.reason)}))
      }
      if (command === 'takeover-end') {
        const t = parseTakeoverEndRequest(request)
        return serial(async (): Promise<TakeoverAnswer> => ({command, instances: vrrp.endTakeover(t.instances, t.reason)}))
      }
      throw new Error(`unknown command "${command}" (status, reload, takeover, takeover-end)`)
    })
  } catch (err) {
    log.error(`control socket ${options.controlSocket}: ${String(err)}`)
    return 1
  }
  if (options.pidFile) await writeFile(options.pidFile, `${process.pid}\n`)
  // Early, before anything slow: Node would otherwise treat SIGUSR1 as "start the debugger".
  const removeDumpSignals = installDumpSignals({getStatus: status, getConfig: () => config, log: {info: (m) => log.info(m), error: (m) => log.error(m)}})
  let metrics: MetricsServer | undefined
  if (config.globalDefs.metricsListen) {
    const {host, port} = config.globalDefs.metricsListen
    try {
      metrics = await startMetricsServer({host, port, getStatus: status, log: {error: (m) => log.error(m)}})
      log.notice(`metrics on http://${host}:${port}/metrics`)
    } catch (err) {
      log.error(`metrics_listen ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

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

  if (runChecks) {
    try {
      await checks.start(config)
    } catch (err) {
      // VRRP keeps running: the VIPs matter even when the data plane cannot be programmed.
      log.error(`cannot start the health checkers: ${err instanceof Error ? err.message : String(err)}`)
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
        await checks.stop(!options.dontReleaseIpvs)
        await notifier.stop()
        removeDumpSignals()
        await metrics?.close()
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
      reload().catch((err: unknown) => log.error(`reload failed: ${err instanceof Error ? err.message : String(err)}`))
    })
  })
}

async function loadConfig(options: DaemonOptions): Promise<{config?: KeepalivedConfig; hash: string; messages: string[]}> {
  try {
    const {config, diagnostics, contentHash} = await parseConfigFile(options.configFile, options.configId === undefined ? {} : {configId: options.configId})
    const messages = diagnostics.map(formatDiagnostic)
    const failed = diagnostics.some((d) => d.severity === 'error')
    return failed ? {hash: '', messages} : {config, hash: contentHash, messages}
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
