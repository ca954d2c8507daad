/**
 * Secret redaction for everything a plan shows. Two layers:
 * - every known secret value is replaced by `<redacted>` (longest first, so a secret that
 *   contains another is never half-replaced);
 * - a line of the desired file that holds a secret becomes a template (`auth_pass <secret>`):
 *   the same line in the host's current file is redacted too, because the OLD secret there
 *   is one we were never told about.
 */
export const REDACTED = '<redacted>'

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function uniqueSecrets(secrets: readonly string[]): string[] {
  return [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length)
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of uniqueSecrets(secrets)) out = out.split(s).join(REDACTED)
  return out
}

/** Line templates from desired contents: each line holding a secret, the secret a wildcard. */
export function secretLineTemplates(contents: readonly string[], secrets: readonly string[]): RegExp[] {
  const list = uniqueSecrets(secrets)
  const out = new Map<string, RegExp>()
  for (const content of contents) {
    for (const line of content.split('\n')) {
      if (!list.some((s) => line.includes(s))) continue
      // Split the line on its secrets; literal parts stay, each secret becomes a capture.
      let src = escapeRe(line)
      for (const s of list) src = src.split(escapeRe(s)).join('(\\S.*?)')
      const re = new RegExp(`^${src}$`, 'd')
      out.set(re.source, re)
    }
  }
  return [...out.values()]
}

/** Redact known secrets, then any line matching a template (its wildcard parts). */
export function redactWithTemplates(text: string, secrets: readonly string[], templates: readonly RegExp[]): string {
  const known = redact(text, secrets)
  if (templates.length === 0) return known
  return known
    .split('\n')
    .map((line) => {
      for (const re of templates) {
        const m = re.exec(line)
        if (!m) continue
        let out = ''
        let last = 0
        // Rebuild the line with each captured group replaced, by the groups' exact offsets.
        for (let g = 1; g < m.length; g++) {
          const [start, end] = m.indices![g]!
          out += line.slice(last, start) + REDACTED
          last = end
        }
        return out + line.slice(last)
      }
      return line
    })
    .join('\n')
}
