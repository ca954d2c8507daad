/** The plan for people: host by host, one line per change, diffs indented, VRRP impact last. */
import type {Plan, ResourceChange} from '../model/plan.js'
import {makeColours, type Colours} from './colour.js'

export interface HumanFormatOptions {
  colour?: boolean
  /** Show unchanged resources too (normally only counted). */
  verbose?: boolean
}

const SIGN: Record<ResourceChange['action'], string> = {create: '+', update: '~', delete: '-', 'no-op': '='}

function paint(c: Colours, action: ResourceChange['action'], s: string): string {
  return action === 'create' ? c.green(s) : action === 'update' ? c.yellow(s) : action === 'delete' ? c.red(s) : c.dim(s)
}

function colourDiff(c: Colours, diff: string): string {
  return diff
    .split('\n')
    .filter((l, i, all) => !(i === all.length - 1 && l === ''))
    .map((l) => {
      const line = `      ${l}`
      if (l.startsWith('+++') || l.startsWith('---')) return c.bold(line)
      if (l.startsWith('@@')) return c.cyan(line)
      if (l.startsWith('+')) return c.green(line)
      if (l.startsWith('-')) return c.red(line)
      return line
    })
    .join('\n')
}

export function formatPlanHuman(plan: Plan, opts: HumanFormatOptions = {}): string {
  const c = makeColours(opts.colour ?? false)
  const out: string[] = []
  const total = {create: 0, update: 0, delete: 0, 'no-op': 0}
  for (const h of plan.hosts) {
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += h.summary[k]
    const changed = h.changes.filter((x) => x.action !== 'no-op')
    const head = `${c.bold(h.host)} ${c.dim(`(${h.address}, ${h.roles.join(', ')})`)}`
    out.push(changed.length === 0 ? `${head}: ${c.green('no changes')}` : head)
    for (const ch of h.changes) {
      if (ch.action === 'no-op' && !opts.verbose) continue
      const why = ch.reason ? c.dim(`: ${ch.reason}`) : ''
      out.push(`  ${paint(c, ch.action, `${SIGN[ch.action]} ${ch.kind} ${ch.id}`)} ${paint(c, ch.action, `(${ch.action})`)}${why}`)
      if (ch.diff && ch.action !== 'no-op') out.push(colourDiff(c, ch.diff))
    }
    if (changed.length > 0 && h.summary['no-op'] > 0 && !opts.verbose) out.push(c.dim(`  = ${h.summary['no-op']} unchanged`))
    out.push('')
  }
  if (plan.vrrp.vipMoves.length > 0 || plan.vrrp.daemons.length > 0) {
    out.push(c.bold('VRRP impact'))
    for (const m of plan.vrrp.vipMoves) {
      const from = m.from.length === 0 ? 'nobody' : m.from.join(' and ')
      const note = m.from.length > 1 ? c.red(' (held more than once now: split brain)') : ''
      out.push(`  VIP ${m.instance} (vrid ${m.vrid}, ${m.addresses.join(', ')}): ${from} -> ${m.to}${note}`)
    }
    for (const d of plan.vrrp.daemons) {
      const word = d.action === 'restart' ? c.yellow(d.action) : d.action === 'start' ? c.green(d.action) : c.cyan(d.action)
      out.push(`  ${d.host}: kaopsd ${word}: ${d.reason}`)
    }
    out.push('')
  }
  for (const e of plan.errors) out.push(c.red(`error: ${e.message}`))
  if (plan.errors.length > 0) out.push('')
  const summary = `Plan: ${total.create} to create, ${total.update} to update, ${total.delete} to delete, ${total['no-op']} unchanged` +
    (plan.errors.length > 0 ? `; ${plan.errors.length} host(s) could not be planned` : '') + '.'
  out.push(plan.has_changes ? c.bold(summary) : `${c.green('No changes.')} ${summary}`)
  return out.join('\n') + '\n'
}
