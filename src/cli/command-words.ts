/**
 * Which of the words typed after `kaops` name the command, when they name none. oclif joins
 * every leading word that is not a flag into the id it looks up, so `kaops plam inventories/lab.yaml`
 * arrives as `plam:inventories/lab.yaml`, and a "did you mean" computed on all of it picks the
 * command closest to the inventory path. Only the command words should be compared, and the
 * rest handed on as arguments.
 */
export interface TypedCommand {
  /** The words taken for the command, joined with ':' like an oclif id. */
  id: string
  /** Everything else, in order: the arguments for whatever command is run instead. */
  argv: string[]
}

/** A word that can be part of a command id; paths, addresses and `k=v` cannot. */
const COMMAND_WORD = /^[A-Za-z][A-Za-z0-9-]*$/

/**
 * `words`: the not-found id split on ':'; `argv`: what oclif left after it (flags and what follows).
 * `ids`: the commands (oclif ids, ':'-separated); `topics`: their topics (`lab`).
 */
export function splitTypedCommand(words: string[], argv: string[], ids: readonly string[], topics: readonly string[]): TypedCommand {
  const n = commandWordCount(words, ids, topics)
  return {id: words.slice(0, n).join(':'), argv: [...words.slice(n), ...argv]}
}

function commandWordCount(words: string[], ids: readonly string[], topics: readonly string[]): number {
  const depth = Math.max(1, ...ids.map((id) => id.split(':').length))
  let candidates = 0
  while (candidates < Math.min(depth, words.length) && COMMAND_WORD.test(words[candidates]!)) candidates++
  if (candidates <= 1) return 1
  // `lab stat`: a real topic, so the next word is its command's.
  if (topics.includes(words[0]!)) return 2
  // Otherwise as many words as make the closest match to a command of that many words:
  // `plam prod` is plan with an argument, `lba up` is lab up. Distance relative to length, so
  // that longer ids do not win (or lose) by having more letters.
  let best = {n: 1, score: Infinity}
  for (let n = 1; n <= candidates; n++) {
    const typed = words.slice(0, n).join(':')
    for (const id of ids) {
      if (id.split(':').length !== n) continue
      const score = levenshtein(typed, id) / Math.max(typed.length, id.length)
      if (score < best.score) best = {n, score}
    }
  }
  return best.n
}

/** Edit distance (insertions, deletions, substitutions), one row at a time. */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]!
}
