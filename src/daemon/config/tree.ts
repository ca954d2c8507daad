import type {Diagnostic} from '../../model/keepalived-config.js'
import {isClose, isOpen, tokenizeLine, type Token} from './lexer.js'
import type {LogicalLine} from './reader.js'

/**
 * Stage 3: statements and blocks. A statement is the words of one line up to a `{`, a `}`
 * or the end of the line; a `{` gives the statement a block of child statements up to its
 * matching `}`. keepalived allows `track_script { a b }` on one line; this does too.
 */
export interface ConfigNode {
  keyword: string
  args: Token[]
  /** undefined: no block was opened; [] : an empty `{ }`. */
  children?: ConfigNode[]
  file: string
  line: number
}

export function buildTree(lines: LogicalLine[], diagnostics: Diagnostic[]): ConfigNode[] {
  const root: ConfigNode[] = []
  const stack: Array<{node: ConfigNode | undefined; children: ConfigNode[]}> = [{node: undefined, children: root}]
  for (const line of lines) {
    const tokens = tokenizeLine(line)
    let current: Token[] = []
    const flush = (opening: boolean): void => {
      const top = stack[stack.length - 1]!
      if (current.length === 0) {
        if (opening) {
          // A bare `{` continues the previous statement written on its own line.
          const previous = top.children[top.children.length - 1]
          if (previous && previous.children === undefined) {
            previous.children = []
            stack.push({node: previous, children: previous.children})
          } else {
            diagnostics.push({severity: 'error', file: line.file, line: line.line, message: "'{' without a keyword before it"})
            const orphan: ConfigNode = {keyword: '', args: [], children: [], file: line.file, line: line.line}
            stack.push({node: orphan, children: orphan.children!})
          }
        }
        return
      }
      const [head, ...args] = current
      const node: ConfigNode = {keyword: head!.text, args, file: head!.file, line: head!.line}
      top.children.push(node)
      if (opening) {
        node.children = []
        stack.push({node, children: node.children})
      }
      current = []
    }
    for (const token of tokens) {
      if (isOpen(token)) flush(true)
      else if (isClose(token)) {
        flush(false)
        if (stack.length === 1) {
          diagnostics.push({severity: 'error', file: line.file, line: line.line, message: "'}' closes a block that was never opened"})
        } else stack.pop()
      } else current.push(token)
    }
    flush(false)
  }
  while (stack.length > 1) {
    const open = stack.pop()!.node!
    diagnostics.push({
      severity: 'error',
      file: open.file,
      line: open.line,
      message: `block '${open.keyword}' opened here is never closed (missing '}')`,
    })
  }
  return root
}
