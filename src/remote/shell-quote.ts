/** Quote one word for a POSIX shell: the only safe way to put a path or value into a command. */
export function shq(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word
  return `'${word.replace(/'/g, `'\\''`)}'`
}
