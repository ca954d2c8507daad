import vm from 'node:vm'

/**
 * The `regex` test of an HTTP_GET/SSL_GET url: a JavaScript regular expression searched for in
 * the response body. keepalived uses PCRE2; the pattern syntax common to both (classes,
 * alternation, quantifiers, groups, lookahead, lookbehind, backreferences) means the same here.
 * Its `regex_options` are mapped to JavaScript flags where JavaScript has the same meaning; the
 * rest cannot be honoured and are configuration errors rather than silently different checks.
 */

/** What the checker needs; plain data, so it survives the supervisor's JSON signatures. */
export interface BodyRegex {
  pattern: string
  /** JavaScript flags without `g` (added when matching). */
  flags: string
  /** regex_no_match: a match fails the check. */
  noMatch: boolean
  /** regex_min_offset: the search starts at this byte of the body. */
  minOffset: number
  /** regex_max_offset: a match must start at or before this byte. */
  maxOffset?: number
  /** firstline: a match must start at or before the first newline after minOffset. */
  firstLine: boolean
}

/**
 * regex_options words: the JavaScript flag each maps to, '' for options whose meaning is already
 * JavaScript's behaviour (or that only tune PCRE2's optimiser, never what matches), or a reason
 * it is refused.
 */
const OPTIONS: Record<string, {flag: string} | {refused: string}> = {
  caseless: {flag: 'i'},
  multiline: {flag: 'm'},
  dotall: {flag: 's'},
  utf: {flag: 'u'},
  // JavaScript's `$` (without multiline) matches only at the very end; `[]` is an empty class;
  // without `u` there is neither UTF nor Unicode properties; \C is not special; a backreference
  // to a group that did not take part matches the empty string.
  dollar_endonly: {flag: ''},
  match_unset_backref: {flag: ''},
  allow_empty_class: {flag: ''},
  never_utf: {flag: ''},
  never_ucp: {flag: ''},
  never_backslash_c: {flag: ''},
  // Optimiser switches and the switch that lets an offset limit apply: same matches either way.
  no_auto_possess: {flag: ''},
  no_start_optimize: {flag: ''},
  no_dotstar_anchor: {flag: ''},
  use_offset_limit: {flag: ''},
  firstline: {flag: ''},
  extended: {refused: 'JavaScript regular expressions have no extended (whitespace and comments) mode'},
  ungreedy: {refused: 'JavaScript regular expressions cannot invert greediness'},
  ucp: {refused: 'JavaScript has no Unicode meaning for \\w, \\d and \\b'},
  dupnames: {refused: 'JavaScript does not allow duplicate group names'},
  no_auto_capture: {refused: 'JavaScript cannot make plain groups non-capturing'},
  auto_callout: {refused: 'JavaScript regular expressions have no callouts'},
  alt_bsux: {refused: 'JavaScript regular expressions have no alternative \\U \\u \\x syntax switch'},
  alt_circumflex: {refused: 'JavaScript regular expressions have no such ^ mode'},
  alt_verbnames: {refused: 'JavaScript regular expressions have no backtracking verbs'},
}

/**
 * Builds the url's regex test from the configuration words; returns a message naming the
 * problem when the pattern is not a valid JavaScript regular expression or an option has no
 * JavaScript equivalent.
 */
export function compileBodyRegex(
  pattern: string,
  options: readonly string[],
  o: {noMatch: boolean; minOffset?: number | undefined; maxOffset?: number | undefined},
): BodyRegex | {error: string} {
  let flags = ''
  for (const word of options) {
    const opt = OPTIONS[word.toLowerCase()]
    if (!opt) return {error: `regex_options '${word}' is not a PCRE2 option keepalived knows`}
    if ('refused' in opt) return {error: `regex_options '${word}' cannot be honoured: ${opt.refused}`}
    if (!flags.includes(opt.flag)) flags += opt.flag
  }
  const words = new Set(options.map((w) => w.toLowerCase()))
  if (words.has('utf') && words.has('never_utf')) return {error: "regex_options 'utf' and 'never_utf' contradict each other"}
  try {
    new RegExp(pattern, flags)
  } catch (err) {
    return {error: `regex '${pattern}' is not a valid (JavaScript) regular expression: ${(err as Error).message}`}
  }
  if (o.minOffset !== undefined && o.maxOffset !== undefined && o.maxOffset < o.minOffset) {
    return {error: `regex_max_offset ${o.maxOffset} is below regex_min_offset ${o.minOffset}`}
  }
  return {
    pattern,
    flags,
    noMatch: o.noMatch,
    minOffset: o.minOffset ?? 0,
    ...(o.maxOffset !== undefined ? {maxOffset: o.maxOffset} : {}),
    firstLine: words.has('firstline'),
  }
}

/**
 * How much of a body the regex sees. keepalived searches what it reads of the response; a
 * health page is small, and a bound keeps one odd answer from costing the daemon memory.
 */
export const REGEX_BODY_LIMIT = 1024 * 1024

/**
 * A pathological pattern (nested quantifiers over a long body) can backtrack for minutes; this
 * runs in the daemon's only thread next to VRRP, so each search is cut off after this long.
 */
export const REGEX_TIME_LIMIT_MS = 500

// One context for every search, made on first use: creating a context costs far more than
// running in it, and `kaopsd -t` (which only compiles patterns) never needs one.
let search: {context: vm.Context; script: vm.Script} | undefined
function searcher(): {context: vm.Context; script: vm.Script} {
  search ??= {context: vm.createContext({}), script: new vm.Script('re.lastIndex = start; re.exec(text)')}
  return search
}

export type RegexVerdict = {ok: true; detail: string} | {ok: false; detail: string}

/** Searches `body` (the first bytes of the response, at most REGEX_BODY_LIMIT) as the url asks. */
export function judgeBody(r: BodyRegex, body: Buffer, timeLimitMs = REGEX_TIME_LIMIT_MS): RegexVerdict {
  const utf = r.flags.includes('u')
  // Without utf every byte is one character, so string positions are byte offsets.
  const text = body.toString(utf ? 'utf8' : 'latin1')
  const toIndex = (byte: number): number => (utf ? body.subarray(0, byte).toString('utf8').length : byte)
  const toByte = (index: number): number => (utf ? Buffer.byteLength(text.slice(0, index), 'utf8') : index)
  const start = Math.min(toIndex(r.minOffset), text.length)
  let lastStart = r.maxOffset
  if (r.firstLine) {
    const nl = text.indexOf('\n', start)
    const nlByte = nl < 0 ? Number.POSITIVE_INFINITY : toByte(nl)
    lastStart = lastStart === undefined ? nlByte : Math.min(lastStart, nlByte)
  }
  const {context, script} = searcher()
  let found: RegExpExecArray | null
  try {
    context.re = new RegExp(r.pattern, `${r.flags}g`)
    context.text = text
    context.start = start
    found = script.runInContext(context, {timeout: timeLimitMs}) as RegExpExecArray | null
  } catch (err) {
    return {ok: false, detail: `regex search gave up: ${(err as Error).message}`}
  } finally {
    context.text = ''
  }
  // exec finds the leftmost match from `start`: if that one starts too late, so would any other.
  const at = found ? toByte(found.index) : undefined
  const matched = at !== undefined && (lastStart === undefined || at <= lastStart)
  if (matched === !r.noMatch) {
    return {ok: true, detail: r.noMatch ? `regex /${r.pattern}/ absent as required` : `regex /${r.pattern}/ matched at byte ${at}`}
  }
  return {ok: false, detail: r.noMatch ? `regex /${r.pattern}/ matched at byte ${at} (regex_no_match)` : `regex /${r.pattern}/ not found`}
}
