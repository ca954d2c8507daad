import {readFile} from 'node:fs/promises'
import {dirname} from 'node:path'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {shq} from '../remote/shell-quote.js'
import type {LabSpec} from './lab-spec.js'
import {run, type RunResult, tryRun} from './runner.js'

/**
 * Reaching a running lab host the way an operator would: the real OpenSSH client, the lab key,
 * the lab's known_hosts and strict host-key checking. Files go in over SSH too, never by writing
 * into a host's root from outside (that would bypass the host and its view of the file).
 */

/** `ssh` options for a lab host (everything but the remote command). */
export function labSshArgs(spec: LabSpec, hostName: string): string[] {
  const host = spec.hosts.find((h) => h.name === hostName)
  if (!host) throw new KaopsError(`${spec.inventoryPath}: no host ${hostName} in the lab`, {exit: ExitCode.error})
  return [
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${spec.ssh.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'ConnectTimeout=5',
    '-o', 'LogLevel=ERROR',
    '-i', spec.ssh.identityFile,
    '-p', String(spec.ssh.port),
    `${spec.ssh.user}@${host.address}`,
  ]
}

/** Runs argv on a lab host (each word quoted for the remote shell); resolves whatever the exit code. */
export function labExec(spec: LabSpec, hostName: string, argv: string[], input?: string | Buffer): Promise<RunResult> {
  return tryRun('ssh', [...labSshArgs(spec, hostName), argv.map(shq).join(' ')], {input, timeoutMs: 120_000})
}

/** Copies a local file to `remotePath` on a running lab host, atomically (temp file + rename). */
export async function copyToHost(spec: LabSpec, hostName: string, localPath: string, remotePath: string, mode = 0o644): Promise<void> {
  const data = await readFile(localPath)
  await writeToHost(spec, hostName, data, remotePath, mode)
}

/** Writes bytes to `remotePath` on a running lab host, atomically. */
export async function writeToHost(spec: LabSpec, hostName: string, data: string | Buffer, remotePath: string, mode = 0o644): Promise<void> {
  if (!remotePath.startsWith('/')) throw new KaopsError(`remote path ${remotePath} must be absolute`, {exit: ExitCode.error})
  const tmp = `${remotePath}.kaops-tmp`
  const script = `mkdir -p ${shq(dirname(remotePath))} && cat > ${shq(tmp)} && chmod ${mode.toString(8)} ${shq(tmp)} && mv -f ${shq(tmp)} ${shq(remotePath)}`
  await run('ssh', [...labSshArgs(spec, hostName), script], {input: data, timeoutMs: 120_000})
}
