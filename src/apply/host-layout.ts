/**
 * Where releases, the `current` link and the lock live on a host. The roots come from
 * src/render/paths.ts and the state probe (one source of truth); the rest is apply's own.
 */
import {posix} from 'node:path'
import {KAOPS_ROOT} from '../render/paths.js'
import {KAOPSD_PATH, MANAGED_LIST_PATH} from '../remote/state-probe.js'

export {KAOPS_ROOT, KAOPSD_PATH, MANAGED_LIST_PATH}
/** /opt/kaops/current: a symlink to releases/<id>. */
export const CURRENT_LINK = posix.dirname(KAOPSD_PATH)
export const RELEASES_DIR = posix.join(KAOPS_ROOT, 'releases')
/** Beside the managed-files list: state kaops keeps on the host. */
export const STATE_DIR = posix.dirname(MANAGED_LIST_PATH)
/** A directory (mkdir is atomic) holding a `holder` file. */
export const LOCK_DIR = posix.join(STATE_DIR, 'lock')

export const releaseDir = (id: string): string => posix.join(RELEASES_DIR, id)
/** Where a release keeps its copy of a managed file: files/ + the absolute path. */
export const releaseFilePath = (id: string, path: string): string => posix.join(RELEASES_DIR, id, 'files', path)
