import {Document} from 'yaml'
import type {ImportResult} from './map-inventory.js'

/**
 * The imported inventory as YAML, with the operator's to-do list (notes) and every warning in
 * a comment at the top, so they travel with the file into review.
 */
export function importedInventoryYaml(r: ImportResult, schemaRef = '../schemas/inventory.schema.json'): string {
  const doc = new Document(r.inventory)
  const head = [
    ` yaml-language-server: $schema=${schemaRef}`,
    ' Written by `kaops import`. Review it, then `kaops validate` and `kaops plan` before any apply.',
  ]
  if (r.notes.length > 0) head.push('', ' Before you use it:', ...r.notes.map((n) => ` - ${n}`))
  if (r.warnings.length > 0) head.push('', ' Import warnings (lines kept as raw, real servers left unprepared; read each):', ...r.warnings.map((w) => ` WARNING ${w.where}: ${w.message}`))
  doc.commentBefore = head.join('\n')
  return doc.toString({lineWidth: 0})
}
