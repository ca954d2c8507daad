/**
 * Reading a playbook: YAML with positions, checked against schemas/playbook.schema.json, every
 * problem reported as `file:line:column: key: message`. Pure apart from reading the file.
 */
import {readFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Ajv2020, type ErrorObject, type ValidateFunction} from 'ajv/dist/2020.js'
import {isMap, isSeq, LineCounter, parseDocument, type Document} from 'yaml'
import {KaopsError} from '../model/errors.js'
import {PLAYBOOK_API_VERSION, type ActionName, type HostSelector, type PhaseOrder, type Playbook} from '../model/playbook.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const PLAYBOOK_SCHEMA_PATH = join(ROOT, 'schemas', 'playbook.schema.json')
export const PLAYBOOKS_DIR = join(ROOT, 'playbooks')
/** The shipped playbook for a procedure (apply, rollback, failover-drill). */
export const defaultPlaybookPath = (name: string): string => join(PLAYBOOKS_DIR, `${name}.yaml`)

let compiled: ValidateFunction | undefined
function validator(): ValidateFunction {
  compiled ??= new Ajv2020({allErrors: true, strict: true, strictRequired: false}).compile(JSON.parse(readFileSync(PLAYBOOK_SCHEMA_PATH, 'utf8')) as object)
  return compiled
}

type Key = string | number

function locate(doc: Document.Parsed, lines: LineCounter, path: Key[]): {line: number; col: number} {
  let node: unknown = doc.contents
  let range: [number, number, number] | undefined = (node as {range?: [number, number, number]} | null)?.range
  for (const k of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as {value?: unknown} | null)?.value === k)
      if (!pair) break
      node = pair.value
      range = ((pair.value ?? pair.key) as {range?: [number, number, number]}).range ?? range
    } else if (isSeq(node) && typeof k === 'number' && node.items[k]) {
      node = node.items[k]
      range = (node as {range?: [number, number, number]}).range ?? range
    } else break
  }
  return range ? lines.linePos(range[0]) : {line: 1, col: 1}
}

const pointer = (p: string): Key[] => (p === '' ? [] : p.slice(1).split('/').map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~'))))

/** ajv reports if/then failures twice (the `if` and the inner error): keep what a person can act on. */
function describe(e: ErrorObject): string | undefined {
  if (e.keyword === 'if') return undefined
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown key "${String(p['additionalProperty'])}"`
    case 'required':
      return `missing required key "${String(p['missingProperty'])}"`
    case 'enum':
      return `must be one of: ${(p['allowedValues'] as unknown[]).join(', ')}`
    case 'const':
      return `must be ${JSON.stringify(p['allowedValue'])}`
    default:
      return e.message ?? e.keyword
  }
}

export function parsePlaybook(text: string, file: string): Playbook {
  const lines = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true})
  const problems: string[] = []
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? {line: 1, col: 1}
    problems.push(`${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`)
  }
  if (problems.length > 0) throw new KaopsError(`playbook ${file} is not valid YAML:\n  ${problems.join('\n  ')}`)
  const data = doc.toJS() as unknown
  const validate = validator()
  if (!validate(data)) {
    const seen = new Set<string>()
    for (const e of validate.errors ?? []) {
      const msg = describe(e)
      if (!msg) continue
      const path = pointer(e.instancePath)
      const pos = locate(doc, lines, path)
      const key = path.length ? path.join('.') : '(top)'
      const line = `${file}:${pos.line}:${pos.col}: ${key}: ${msg}`
      if (!seen.has(line)) problems.push(line)
      seen.add(line)
    }
    throw new KaopsError(`playbook ${file} has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`, {
      suggestions: [`actions and their parameters are listed in ${PLAYBOOK_SCHEMA_PATH}`],
    })
  }
  const raw = data as {name: string; description?: string; phases: Array<{name: string; hosts: HostSelector; order?: PhaseOrder; steps: Array<{action: ActionName; name?: string; with?: Record<string, unknown>}>}>}
  const playbook: Playbook = {
    apiVersion: PLAYBOOK_API_VERSION,
    kind: 'Playbook',
    name: raw.name,
    source: file,
    phases: raw.phases.map((ph, i) => ({
      name: ph.name,
      hosts: ph.hosts,
      order: ph.order ?? 'parallel',
      line: locate(doc, lines, ['phases', i]).line,
      steps: ph.steps.map((s, j) => ({
        action: s.action,
        ...(s.name ? {name: s.name} : {}),
        params: s.with ?? {},
        line: locate(doc, lines, ['phases', i, 'steps', j]).line,
      })),
    })),
  }
  if (raw.description !== undefined) playbook.description = raw.description
  const names = new Set<string>()
  for (const ph of playbook.phases) {
    if (names.has(ph.name)) throw new KaopsError(`${file}:${ph.line}: phase name "${ph.name}" is used twice`)
    names.add(ph.name)
    if (ph.order === 'backups-first' && ph.hosts !== 'directors') {
      throw new KaopsError(`${file}:${ph.line}: phase "${ph.name}": order backups-first only makes sense with hosts: directors`)
    }
  }
  return playbook
}

export async function loadPlaybook(path: string): Promise<Playbook> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new KaopsError(`cannot read playbook ${path}: ${(error as Error).message}`)
  }
  return parsePlaybook(text, path)
}
