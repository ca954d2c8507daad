/** The inventory's git revision, for release manifests: HEAD, "+dirty" when the file has local edits. */
import {execFile} from 'node:child_process'
import {basename, dirname} from 'node:path'
import {promisify} from 'node:util'

const run = promisify(execFile)

export async function inventoryRevision(path: string): Promise<string | undefined> {
  const cwd = dirname(path)
  try {
    const {stdout: head} = await run('git', ['-C', cwd, 'rev-parse', 'HEAD'], {timeout: 5000})
    const {stdout: dirty} = await run('git', ['-C', cwd, 'status', '--porcelain', '--', basename(path)], {timeout: 5000})
    return head.trim() + (dirty.trim() ? '+dirty' : '')
  } catch {
    return undefined
  }
}
