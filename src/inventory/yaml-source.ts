import {isMap, isSeq, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode} from 'yaml'
import {formatPath, type Problem} from './problems.js'

export type KeyPath = ReadonlyArray<string | number>

/**
 * The parsed YAML with its line table, so any key path found by the schema or the semantic
 * checks maps back to `file:line:column`. Positions come from yaml's node ranges.
 */
export class YamlSource {
  readonly doc: Document.Parsed
  readonly file: string
  private readonly lines: LineCounter

  constructor(text: string, file: string) {
    this.file = file
    this.lines = new LineCounter()
    this.doc = parseDocument(text, {lineCounter: this.lines, prettyErrors: false, uniqueKeys: true})
  }

  /** YAML syntax errors (and duplicate keys), each placed. */
  syntaxProblems(): Problem[] {
    return this.doc.errors.map((e) => {
      const pos = this.lines.linePos(e.pos[0])
      return {file: this.file, line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}
    })
  }

  /**
   * Where `path` is: the value node if it exists (or its key when `key` is set), otherwise the
   * deepest ancestor that exists (a missing key is reported on the map that lacks it).
   */
  locate(path: KeyPath, opts: {key?: boolean} = {}): {line: number; column: number} {
    let node: unknown = this.doc.contents
    let found: YamlNode | undefined = (node as YamlNode | null) ?? undefined
    for (let i = 0; i < path.length; i++) {
      const k = path[i]!
      const last = i === path.length - 1
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === k)
        if (!pair) break
        if (last && opts.key && pair.key && (pair.key as YamlNode).range) {
          found = pair.key as YamlNode
          break
        }
        node = pair.value
        if (node && (node as YamlNode).range) found = node as YamlNode
        else {
          found = (pair.key as YamlNode) ?? found
          break
        }
      } else if (isSeq(node) && typeof k === 'number') {
        node = node.items[k]
        if (node && (node as YamlNode).range) found = node as YamlNode
        else break
      } else break
    }
    const offset = found?.range?.[0] ?? 0
    const pos = this.lines.linePos(offset)
    return {line: pos.line, column: pos.col}
  }

  problem(path: KeyPath, message: string, opts: {key?: boolean} = {}): Problem {
    const {line, column} = this.locate(path, opts)
    return {file: this.file, line, column, path: formatPath(path), message}
  }
}
