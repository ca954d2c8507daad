/**
 * What kaopsd reports as `configHash` (status, metrics) and kaops verify recomputes from the
 * rendered file: sha256 over every configuration file read, in reading order, each as
 * `path NUL content NUL`. One definition, so the daemon and the CLI cannot drift apart.
 */
import {createHash} from 'node:crypto'

export class ConfigHasher {
  private readonly hash = createHash('sha256')

  add(path: string, content: string): void {
    this.hash.update(path).update('\0').update(content, 'utf8').update('\0')
  }

  digest(): string {
    return this.hash.digest('hex')
  }
}

/** The hash of one configuration without includes (what kaops renders). */
export function configHashOf(path: string, content: string): string {
  const h = new ConfigHasher()
  h.add(path, content)
  return h.digest()
}
