import type {DiagnosticSink} from './diagnostics.js'
import type {ConfigNode} from './tree.js'

/**
 * A block's keywords: one handler per keyword. Everything not in the table is an error
 * ("unknown keyword"), except keywords keepalived knows that kaopsd does not act on, which
 * are listed per block and only warned about, so a real keepalived.conf still passes.
 */
export type Handler<T> = (node: ConfigNode, target: T) => void

export interface KeywordTable<T> {
  block: string
  handlers: Record<string, Handler<T>>
  ignored?: ReadonlySet<string>
  /** Called for a keyword not in the table (e.g. bare addresses in a list block). */
  fallback?: Handler<T>
}

export function runTable<T>(sink: DiagnosticSink, nodes: ConfigNode[], table: KeywordTable<T>, target: T): void {
  for (const node of nodes) {
    if (node.keyword === '') continue
    const handler = Object.hasOwn(table.handlers, node.keyword) ? table.handlers[node.keyword] : undefined
    if (handler) handler(node, target)
    else if (table.ignored?.has(node.keyword)) {
      sink.warning(node, `'${node.keyword}' in ${table.block} is a keepalived keyword that kaopsd ignores`)
    } else if (table.fallback) table.fallback(node, target)
    else sink.error(node, `unknown keyword '${node.keyword}' in ${table.block}`)
  }
}
