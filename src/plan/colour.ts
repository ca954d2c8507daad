/** A tiny ANSI colour helper: off under NO_COLOR (any value), TERM=dumb, or a non-TTY stream. */
export interface Colours {
  red(s: string): string
  green(s: string): string
  yellow(s: string): string
  cyan(s: string): string
  bold(s: string): string
  dim(s: string): string
}

const wrap = (on: boolean, open: number, close: number) => (s: string) => (on ? `\u001B[${open}m${s}\u001B[${close}m` : s)

export function makeColours(enabled: boolean): Colours {
  return {
    red: wrap(enabled, 31, 39),
    green: wrap(enabled, 32, 39),
    yellow: wrap(enabled, 33, 39),
    cyan: wrap(enabled, 36, 39),
    bold: wrap(enabled, 1, 22),
    dim: wrap(enabled, 2, 22),
  }
}

export function colourEnabled(stream: {isTTY?: boolean}, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.TERM === 'dumb') return false
  return stream.isTTY === true
}
