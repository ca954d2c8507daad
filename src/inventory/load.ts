import {readFile} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'
import type {Inventory, SecretValue} from '../model/inventory.js'
import {KaopsError} from '../model/errors.js'
import {ExitCode} from '../model/exit-codes.js'
import {normalizeInventory} from './normalize.js'
import {problemsError, sortProblems, type Problem} from './problems.js'
import {schemaProblems} from './schema-check.js'
import {processSecretSources, resolveSecret, type SecretSources} from './secrets.js'
import {PASS_SECRET_MAX, semanticIssues} from './semantic-check.js'
import {YamlSource} from './yaml-source.js'

export type {Problem} from './problems.js'
export {formatProblem} from './problems.js'

export interface CheckOptions {
  /** Where secrets come from; false skips resolving them (e.g. validating in CI without them). */
  secrets?: SecretSources | false
}

export interface CheckResult {
  problems: Problem[]
  /** Present when there are no problems. */
  inventory?: Inventory
}

/**
 * The whole pipeline on text: YAML syntax, schema, semantics, secrets. Each stage runs only when
 * the one before passed (a schema error would otherwise cascade into confusing semantic ones).
 * Never contacts a host; reads only secret files.
 */
export function checkInventoryText(text: string, fileName: string, opts: CheckOptions = {}): CheckResult {
  const source = new YamlSource(text, fileName)
  const syntax = source.syntaxProblems()
  if (syntax.length > 0) return {problems: sortProblems(syntax)}
  const data: unknown = source.doc.toJS()
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return {problems: [source.problem([], 'an inventory is a YAML mapping (apiVersion: kaops/v1, directors, vips, ...)')]}
  }
  const schema = schemaProblems(data, source)
  if (schema.length > 0) return {problems: sortProblems(schema)}
  const doc = normalizeInventory(data)
  const problems = semanticIssues(doc).map((i) => source.problem(i.path, i.message, {key: i.key}))

  const secrets: Record<string, SecretValue> = {}
  const sources = opts.secrets === undefined ? processSecretSources(dirname(resolve(fileName))) : opts.secrets
  if (sources !== false) {
    doc.vips.forEach((vip, vi) => {
      if (!vip.authentication) return
      const ref = vip.authentication.secret
      if ((ref.env === undefined) === (ref.file === undefined)) return // reported above
      const r = resolveSecret(ref, sources)
      const path = ['vips', vi, 'authentication', 'secret']
      if ('error' in r) {
        problems.push(source.problem(path, `VIP ${vip.name}: the authentication secret is missing: ${r.error}`))
        return
      }
      if (vip.authentication.type === 'PASS' && r.reveal().length > PASS_SECRET_MAX) {
        problems.push(source.problem(path, `VIP ${vip.name}: the PASS secret (${r.source}) is longer than ${PASS_SECRET_MAX} characters; VRRP carries only the first ${PASS_SECRET_MAX}`))
        return
      }
      secrets[vip.name] = r
    })
  }
  if (problems.length > 0) return {problems: sortProblems(problems)}
  return {problems: [], inventory: {...doc, sourcePath: fileName, secrets}}
}

/** The problems of an inventory text, sorted by position; empty when it is valid. */
export function validateInventoryText(text: string, fileName: string, opts: CheckOptions = {}): Problem[] {
  return checkInventoryText(text, fileName, opts).problems
}

/** Read, validate and resolve an inventory. Throws KaopsError (exit 1) listing every problem. */
export async function loadInventory(path: string, opts: CheckOptions = {}): Promise<Inventory> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new KaopsError(`${path}: cannot read the inventory (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {exit: ExitCode.error, place: {file: path}})
  }
  const r = checkInventoryText(text, path, opts)
  if (!r.inventory) throw problemsError(path, r.problems)
  return r.inventory
}
