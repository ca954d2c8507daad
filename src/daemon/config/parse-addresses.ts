import type {IpAddressConfig, NexthopConfig, RouteConfig, RuleConfig} from '../../model/keepalived-config.js'
import type {DiagnosticSink} from './diagnostics.js'
import type {Token} from './lexer.js'
import type {ConfigNode} from './tree.js'
import {at, ipFamily, parsePrefixed} from './values.js'

/** The address, route and rule lines of virtual_ipaddress, static_routes, virtual_rules ... */

const ADDRESS_FLAGS = new Set(['home', 'nodad', 'noprefixroute', 'autojoin', 'no_track'])
const ADDRESS_VALUES = new Set(['dev', 'brd', 'broadcast', 'label', 'scope', 'peer', 'preferred_lft', 'track_group'])

/** One line of an address list: the line's keyword is the address itself. */
export function parseIpAddressLine(sink: DiagnosticSink, node: ConfigNode, list: string): IpAddressConfig | undefined {
  const words = [node.keyword, ...node.args.map((t) => t.text)]
  const parsed = parsePrefixed(words[0]!)
  if (!parsed) {
    sink.error(node, `${list}: '${words[0]}' is not a valid IP address (ADDRESS[/PREFIX])`)
    return undefined
  }
  const result: IpAddressConfig = {
    address: parsed.address,
    family: parsed.family,
    prefixLength: parsed.prefixLength,
    flags: [],
    source: at(node),
  }
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!
    if (ADDRESS_FLAGS.has(word)) {
      result.flags.push(word)
      continue
    }
    if (!ADDRESS_VALUES.has(word)) {
      sink.error(node, `${list}: unknown option '${word}' after ${parsed.address}`)
      continue
    }
    const value = words[++i]
    if (value === undefined) {
      sink.error(node, `${list}: '${word}' needs a value`)
      break
    }
    switch (word) {
      case 'dev':
        result.dev = value
        break
      case 'brd':
      case 'broadcast':
        if (value !== '+' && value !== '-' && ipFamily(value) !== 4) sink.error(node, `${list}: broadcast '${value}' is not an IPv4 address`)
        else result.broadcast = value
        break
      case 'label':
        result.label = value
        break
      case 'scope':
        if (!/^(host|link|site|global|nowhere|\d+)$/.test(value)) sink.error(node, `${list}: unknown scope '${value}'`)
        else result.scope = value
        break
      case 'peer': {
        const peer = parsePrefixed(value)
        if (!peer) sink.error(node, `${list}: peer '${value}' is not a valid IP address`)
        else result.peer = value
        break
      }
      default:
        result.flags.push(`${word} ${value}`)
    }
  }
  return result
}

const ROUTE_TYPES = new Set(['blackhole', 'unreachable', 'prohibit', 'throw', 'local', 'broadcast', 'multicast', 'nat', 'anycast'])

/** One route line: [src ADDR] [TYPE] DEST [via|gw ADDR] [or ADDR] [dev IF] [table T] ... */
export function parseRouteLine(sink: DiagnosticSink, node: ConfigNode, list: string): RouteConfig | undefined {
  const words = [node.keyword, ...node.args.map((t) => t.text)]
  let i = 0
  let src: string | undefined
  let type = 'unicast'
  if (words[i] === 'src') {
    src = words[i + 1]
    if (!src || !ipFamily(src)) {
      sink.error(node, `${list}: 'src' needs an IP address`)
      return undefined
    }
    i += 2
  }
  if (ROUTE_TYPES.has(words[i]!)) type = words[i++]!
  const destinationText = words[i++]
  const destination = destinationText === 'default' ? {address: '0.0.0.0', family: 4 as const, prefixLength: 0, prefixGiven: true} : destinationText ? parsePrefixed(destinationText) : undefined
  if (!destination) {
    sink.error(node, `${list}: '${destinationText ?? ''}' is not a valid destination (ADDRESS[/PREFIX])`)
    return undefined
  }
  const route: RouteConfig = {
    type,
    destination: `${destination.address}/${destination.prefixLength}`,
    family: destination.family,
    nexthops: [],
    source: at(node),
  }
  if (src) route.src = src
  let noTrack = false
  for (; i < words.length; i++) {
    const word = words[i]!
    const value = words[i + 1]
    const needValue = (): string | undefined => {
      if (value === undefined) sink.error(node, `${list}: '${word}' needs a value`)
      i++
      return value
    }
    switch (word) {
      case 'via':
      case 'gw': {
        if (word === 'gw') sink.warning(node, `${list}: 'gw' is deprecated, write 'via' (keepalived warns too)`)
        const via = needValue()
        if (via !== undefined && !ipFamily(via)) sink.error(node, `${list}: gateway '${via}' is not a valid IP address`)
        else if (via !== undefined) route.via = via
        break
      }
      case 'or': {
        sink.warning(node, `${list}: 'or' is deprecated, write 'nexthop via ADDR' (keepalived warns too)`)
        const alt = needValue()
        if (alt !== undefined && ipFamily(alt)) {
          if (route.nexthops.length === 0 && route.via) route.nexthops.push({via: route.via})
          route.nexthops.push({via: alt})
        } else sink.error(node, `${list}: gateway '${alt ?? ''}' is not a valid IP address`)
        break
      }
      case 'nexthop': {
        const hop: NexthopConfig = {}
        while (i + 1 < words.length && ['via', 'dev', 'weight'].includes(words[i + 1]!)) {
          const key = words[i + 1]!
          const v = words[i + 2]
          i += 2
          if (v === undefined) sink.error(node, `${list}: nexthop '${key}' needs a value`)
          else if (key === 'via') hop.via = v
          else if (key === 'dev') hop.dev = v
          else hop.weight = Number(v)
        }
        route.nexthops.push(hop)
        break
      }
      case 'dev':
        route.dev = needValue()
        break
      case 'table':
        route.table = needValue()
        break
      case 'metric':
      case 'preference':
      case 'priority': {
        const v = needValue()
        if (v !== undefined && !/^\d+$/.test(v)) sink.error(node, `${list}: ${word} '${v}' is not a number`)
        else if (v !== undefined) route.metric = Number(v)
        break
      }
      case 'scope':
        route.scope = needValue()
        break
      case 'proto':
      case 'protocol':
        route.protocol = needValue()
        break
      case 'no_track':
        noTrack = true
        break
      case 'onlink':
        break
      default:
        if (/^(mtu|advmss|realms|tos|dsfield|pref|rtt|rttvar|reordering|window|cwnd|ssthresh|initcwnd|initrwnd|features|quickack|fastopen_no_cookie|congctl|hoplimit|expires|encap|src)$/.test(word)) {
          if (word === 'src') route.src = needValue()
          else needValue()
        } else sink.error(node, `${list}: unknown route option '${word}'`)
    }
  }
  const hasDev = route.dev !== undefined || route.nexthops.some((h) => h.dev !== undefined)
  if (!hasDev && !noTrack && type === 'unicast') {
    // keepalived 2.2 says it cannot track such a route; it still installs it.
    sink.warning(node, `${list}: route ${route.destination} has no 'dev', so it cannot be tracked (add 'dev IF' or 'no_track')`)
  }
  return route
}

/** One rule line: from/to/table/priority/fwmark/iif/oif (the subset kaopsd installs). */
export function parseRuleLine(sink: DiagnosticSink, node: ConfigNode, list: string): RuleConfig | undefined {
  const tokens: Token[] = [{text: node.keyword, quoted: false, file: node.file, line: node.line}, ...node.args]
  const rule: RuleConfig = {family: 4, source: at(node)}
  let ok = true
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i]!.text
    const value = tokens[i + 1]?.text
    if (value === undefined && !['not'].includes(word)) {
      sink.error(node, `${list}: '${word}' needs a value`)
      return undefined
    }
    switch (word) {
      case 'from':
      case 'to': {
        const parsed = value === 'all' ? {family: rule.family} : parsePrefixed(value!)
        if (!parsed) {
          sink.error(node, `${list}: '${value}' is not a valid address for '${word}'`)
          ok = false
        } else {
          rule[word] = value
          rule.family = parsed.family
        }
        i++
        break
      }
      case 'table':
      case 'lookup':
        rule.table = value
        i++
        break
      case 'priority':
      case 'preference':
      case 'pref':
        if (!/^\d+$/.test(value!)) {
          sink.error(node, `${list}: ${word} '${value}' is not a number`)
          ok = false
        } else rule.priority = Number(value)
        i++
        break
      case 'fwmark':
        rule.fwmark = value
        i++
        break
      case 'iif':
        rule.iif = value
        i++
        break
      case 'oif':
        rule.oif = value
        i++
        break
      default:
        sink.error(node, `${list}: unknown rule option '${word}'`)
        ok = false
        i++
    }
  }
  if (!ok) return undefined
  if (rule.priority === undefined) sink.warning(node, `${list}: rule has no priority; the kernel picks one, which is rarely what you want`)
  return rule
}
