import {appendFileSync} from 'node:fs'
import {parseKaopsdArgs, UsageError, type KaopsdCommand} from './cli-args.js'
import {selfTest} from './self-test.js'
import {checkConfigFile, dumpConfig} from './config-commands.js'
import {runDaemon} from './run-daemon.js'
import {genhashCommand, statusCommand, takeoverCommand} from './status-command.js'
import {versionLine} from './version.js'

/** Where kaopsd's command line writes; tests pass their own. */
export interface CliIo {
  out: (text: string) => void
  err: (text: string) => void
}

/** Exit codes of the command line. 1 is also keepalived's for bad options. */
export const CliExit = {ok: 0, error: 1, configInvalid: 1} as const

/** kaopsd's command line: parse, dispatch to one function, return the exit code. */
export async function runKaopsd(argv: readonly string[], io: CliIo): Promise<number> {
  let cmd: KaopsdCommand
  try {
    cmd = parseKaopsdArgs(argv)
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`kaopsd: ${err.message}\n`)
      return CliExit.error
    }
    throw err
  }
  switch (cmd.kind) {
    case 'help':
      io.out(cmd.text)
      return CliExit.ok
    case 'version':
      io.out(`${versionLine()}\n`)
      return CliExit.ok
    case 'config-test': {
      const res = await checkConfigFile(cmd.options.configFile, pick(cmd.options.configId))
      const text = res.messages.map((m) => `${m}\n`).join('')
      if (cmd.logFile !== undefined) appendFileSync(cmd.logFile, text)
      else io.err(text)
      return res.ok ? CliExit.ok : CliExit.configInvalid
    }
    case 'dump-config': {
      const res = await dumpConfig(cmd.options.configFile, {...pick(cmd.options.configId), json: cmd.json})
      io.err(res.messages.map((m) => `${m}\n`).join(''))
      if (res.output) io.out(res.output.endsWith('\n') ? res.output : `${res.output}\n`)
      return res.ok ? CliExit.ok : CliExit.configInvalid
    }
    case 'status':
      return statusCommand({controlSocket: cmd.controlSocket, json: cmd.json}, io)
    case 'takeover':
      return takeoverCommand(cmd, io)
    case 'genhash':
      return genhashCommand(cmd.args, io)
    case 'self-test':
      return selfTest(cmd.iface, io)
    case 'run':
      return runDaemon(cmd.options, (line) => io.err(`${line}\n`))
  }
}

function pick(configId: string | undefined): {configId?: string} {
  return configId === undefined ? {} : {configId}
}
