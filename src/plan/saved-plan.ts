/**
 * Saving and loading a plan for `kaops apply PLANFILE`. A saved plan carries the rendered
 * files, secrets included, so it is written mode 0600 (atomically: temp file, then rename)
 * and labelled sensitive.
 */
import {randomBytes} from 'node:crypto'
import {chmod, open, readFile, rename, rm} from 'node:fs/promises'
import {dirname, join, basename} from 'node:path'
import type {DesiredHost} from '../model/desired-state.js'
import {PLAN_FORMAT_VERSION, type Plan, type SavedPlan} from '../model/plan.js'
import {KaopsError} from '../model/errors.js'

export const SENSITIVE_NOTE =
  'SENSITIVE: this plan file contains the rendered configuration of every host, secrets included (e.g. VRRP auth_pass). Keep it mode 0600 and out of git.'

export function toSavedPlan(plan: Plan, desired: DesiredHost[], kaopsdSha256?: string): SavedPlan {
  const saved: SavedPlan = {...plan, sensitive: SENSITIVE_NOTE, desired}
  if (kaopsdSha256) saved.kaopsd_sha256 = kaopsdSha256
  return saved
}

export async function writeSavedPlan(path: string, saved: SavedPlan): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(JSON.stringify(saved, null, 2) + '\n')
    await fh.sync()
  } catch (error) {
    await fh.close()
    await rm(tmp, {force: true})
    throw error
  }
  await fh.close()
  await chmod(tmp, 0o600) // the umask cannot loosen it, but be explicit
  await rename(tmp, path)
}

export async function readSavedPlan(path: string): Promise<SavedPlan> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new KaopsError(`${path}: not a readable plan file: ${(error as Error).message}`)
  }
  const p = parsed as Partial<SavedPlan>
  if (p.format_version !== PLAN_FORMAT_VERSION) {
    throw new KaopsError(`${path}: plan format_version ${String(p.format_version)} is not supported (expected ${PLAN_FORMAT_VERSION})`)
  }
  if (!Array.isArray(p.hosts) || !Array.isArray(p.desired)) throw new KaopsError(`${path}: not a saved plan (no hosts or desired state; was it written by --json instead of --out?)`)
  return p as SavedPlan
}
