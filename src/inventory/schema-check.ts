import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Ajv2020, type ErrorObject, type ValidateFunction} from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type {Problem} from './problems.js'
import type {KeyPath, YamlSource} from './yaml-source.js'

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as {default?: unknown}).default ?? addFormatsModule) as (ajv: Ajv2020) => void

/** schemas/inventory.schema.json, from src/inventory/ or dist/inventory/. */
export const INVENTORY_SCHEMA_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas', 'inventory.schema.json')

let compiled: ValidateFunction | undefined

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true})
    addFormats(ajv)
    compiled = ajv.compile(JSON.parse(readFileSync(INVENTORY_SCHEMA_PATH, 'utf8')) as object)
  }
  return compiled
}

/** Readable messages for the patterns whose regex would mean nothing to an operator. */
const PATTERN_MESSAGES: Record<string, string> = {
  '#/$defs/name/pattern': 'must be a name: a letter, then letters, digits, "_", "." or "-" (64 at most)',
  '#/$defs/ifname/pattern': 'must be an interface name (15 characters at most)',
  '#/$defs/cidr/pattern': 'must be an IP address with an optional /prefix, e.g. 198.18.0.10/24',
  '#/$defs/ip/pattern': 'must be an IP address without prefix, e.g. 198.18.0.10',
  '#/$defs/sysctlMap/propertyNames/pattern': 'must be a sysctl key, e.g. net.ipv4.ip_forward',
}

function pointerToPath(pointer: string): KeyPath {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

function editDistance(a: string, b: string): number {
  const d = Array.from({length: a.length + 1}, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1))
  return d[a.length]![b.length]!
}

export function didYouMean(word: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const dist = editDistance(word, c)
    if (dist < bestD) [best, bestD] = [c, dist]
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

function describe(e: ErrorObject): {path: KeyPath; message: string; key?: boolean} | undefined {
  const path = pointerToPath(e.instancePath)
  switch (e.keyword) {
    case 'if':
      return undefined // the branch's own errors say what is wrong
    case 'additionalProperties': {
      const extra = String((e.params as {additionalProperty: string}).additionalProperty)
      const known = Object.keys((e.parentSchema as {properties?: object} | undefined)?.properties ?? {})
      const hint = didYouMean(extra, known)
      return {path: [...path, extra], key: true, message: `unknown key "${extra}"${hint ? ` (did you mean "${hint}"?)` : ''}`}
    }
    case 'required':
      return {path, message: `missing required key "${(e.params as {missingProperty: string}).missingProperty}"`}
    case 'enum':
      return {path, message: `must be one of: ${((e.params as {allowedValues: unknown[]}).allowedValues).map((v) => JSON.stringify(v)).join(', ')}`}
    case 'const':
      return {path, message: `must be ${JSON.stringify((e.params as {allowedValue: unknown}).allowedValue)}`}
    case 'pattern':
      return {path, message: PATTERN_MESSAGES[e.schemaPath] ?? e.message ?? 'does not match its pattern'}
    case 'propertyNames':
      return undefined // reported by the pattern error on the name itself
    default:
      return {path, message: e.message ?? `fails ${e.keyword}`}
  }
}

/** Schema errors for the plain data of `source`, each placed at its key. */
export function schemaProblems(data: unknown, source: YamlSource): Problem[] {
  const validate = validator()
  if (validate(data)) return []
  const seen = new Set<string>()
  const out: Problem[] = []
  for (const e of validate.errors ?? []) {
    let d = describe(e)
    if (!d) continue
    if (e.keyword === 'pattern' && e.propertyName !== undefined) d = {path: [...d.path, e.propertyName], key: true, message: `key ${d.message.replace(/^must/, 'must')}`}
    const p = source.problem(d.path, d.message, {key: d.key})
    const id = `${p.path}\0${p.message}`
    if (!seen.has(id)) {
      seen.add(id)
      out.push(p)
    }
  }
  return out
}
