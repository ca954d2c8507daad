/** A keepalived.conf string argument: quoted when it has spaces or quotes, so scripts with arguments stay one word. */
export function kaQuote(s: string): string {
  return /^[^\s"'#!]+$/.test(s) ? s : `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/** Numbers the way keepalived.conf and sysctl want them: no exponent, no trailing zeros. */
export function num(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000)
}
