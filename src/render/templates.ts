import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import Handlebars from 'handlebars'

/** templates/ at the package root, from src/render/ or dist/render/. */
export const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates')

export type TemplateName =
  | 'keepalived.conf'
  | 'kaopsd.service'
  | 'sysctl.conf'
  | 'kaops-lo-vip.service'
  | 'kaops-vrrp.nft'
  | 'firewalld-direct.xml'
  | 'iptables.rules'
  | 'kaops-vrrp-firewall.service'

// One private Handlebars environment: noEscape because none of these files is HTML, strict so a
// view missing a field is a render error instead of a silently empty line on a host.
const hbs = Handlebars.create()
const cache = new Map<TemplateName, Handlebars.TemplateDelegate>()

export function renderTemplate(name: TemplateName, view: object): string {
  let t = cache.get(name)
  if (!t) {
    const text = readFileSync(join(TEMPLATES_DIR, `${name}.hbs`), 'utf8')
    t = hbs.compile(text, {noEscape: true, strict: true})
    cache.set(name, t)
  }
  return t(view)
}
