/**
 * The invariants of a healthy kaops cluster, checked purely over facts already gathered:
 * `checkInvariants(inventory, desired, facts) -> CheckResult[]`. No I/O here, so every check
 * is tested from recorded facts, and a failing check always carries the evidence it rests on.
 */
import {createHash} from 'node:crypto'
import type {ActualHost} from '../model/actual-state.js'
import type {DesiredHost} from '../model/desired-state.js'
import type {Inventory, Vip} from '../model/inventory.js'
import type {KaopsdStatus, VrrpInstanceStats, VrrpInstanceStatus} from '../model/kaopsd-status.js'
import type {CheckResult, HostFacts, VerifyFacts} from '../model/verify.js'
import {expectedMaster, hostPart, sameIp, serviceAddress, serviceVip, vipDirectors} from '../inventory/derive.js'
import {KAOPSD_CONFIG_PATH, KAOPSD_UNIT, REPLACED_DAEMON_UNIT} from '../render/paths.js'
import {configHashOf} from '../model/config-hash.js'
import {findVrrpBlockers} from './firewall-scan.js'
import {instanceFields, type InstanceFields} from './instance-config.js'

export interface InvariantOptions {
  /** sha256 of the kaopsd executable this kaops would ship, when known. */
  kaopsdSha256?: string
}

/** Counters that rise when a peer's adverts are refused: the classic cause of dual masters. */
export const RX_ERROR_COUNTERS: Array<keyof VrrpInstanceStats> = [
  'auth_failure',
  'authtype_mismatch',
  'invalid_authtype',
  'addr_list_err',
  'packet_len_err',
  'ip_ttl_err',
  'invalid_type_rcvd',
]

const RX_HINT: Partial<Record<keyof VrrpInstanceStats, string>> = {
  auth_failure: 'auth_pass differs between peers',
  authtype_mismatch: 'auth_type differs between peers',
  invalid_authtype: 'auth_type differs between peers',
  addr_list_err: 'virtual_ipaddress lists differ between peers',
  ip_ttl_err: 'adverts crossed a router (TTL not 255)',
}

const check = (id: string, subject: string, status: CheckResult['status'], message: string, evidence: Record<string, unknown> = {}): CheckResult => ({
  id,
  subject,
  status,
  message,
  evidence,
})

/** The freshest status a host gave: the second read, else the first, else the probe's. */
export function latestStatus(h: HostFacts | undefined): KaopsdStatus | undefined {
  if (!h) return undefined
  const s = h.extra?.status2 ?? h.extra?.status1 ?? (h.actual?.kaopsdStatus as KaopsdStatus | undefined)
  return s && Array.isArray(s.instances) ? s : undefined
}

const instanceOf = (s: KaopsdStatus | undefined, name: string): VrrpInstanceStatus | undefined => s?.instances.find((i) => i.name === name)

/** Interfaces on which `actual` carries `address` (CIDR or bare). */
export function interfacesWith(actual: ActualHost | undefined, address: string): string[] {
  if (!actual) return []
  const ip = hostPart(address)
  return actual.addresses.filter((a) => sameIp(hostPart(a.cidr), ip)).map((a) => a.ifname)
}


const stripHash = (h: string | undefined): string | undefined => h?.replace(/^sha256:/, '').toLowerCase()
const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex')

function hostChecks(inv: Inventory, d: DesiredHost, f: HostFacts | undefined, opts: InvariantOptions): CheckResult[] {
  const out: CheckResult[] = []
  if (!f || f.error || !f.actual) {
    out.push(check('host.reachable', d.name, 'fail', `cannot read ${d.name}: ${f?.error ?? 'no facts gathered'}`, {address: d.address}))
    return out
  }
  out.push(check('host.reachable', d.name, 'pass', `read ${d.name} over SSH`, {address: d.address, probeMs: f.actual.probeMs}))
  const a = f.actual
  if (d.roles.includes('director')) {
    const status = latestStatus(f)
    const unit = a.units.find((u) => u.name === KAOPSD_UNIT)
    if (status) out.push(check('kaopsd.running', d.name, 'pass', `kaopsd ${status.version} runs (pid ${status.pid}, unit ${unit?.active ?? 'unknown'})`, {pid: status.pid, unit: unit?.active}))
    else out.push(check('kaopsd.running', d.name, 'fail', `kaopsd does not answer \`kaopsd status --json\` (unit ${KAOPSD_UNIT}: ${unit?.active ?? 'unknown'})`, {unit, binary: a.binary.exists}))

    // keepalived beside kaopsd would answer for the same VRIDs from the same host: adverts from
    // two daemons, VIPs added and removed by both. Enabled but stopped, it comes back at boot.
    const legacy = a.units.find((u) => u.name === REPLACED_DAEMON_UNIT)
    if (legacy && (legacy.active === 'active' || legacy.enabled === 'enabled')) {
      const how = legacy.active === 'active' ? 'runs' : 'is enabled and would start at boot'
      out.push(check('daemon.alone', d.name, 'fail', `${REPLACED_DAEMON_UNIT} ${how} beside kaopsd: two VRRP daemons for the same instances; \`kaops apply\` stops and disables it`, {enabled: legacy.enabled, active: legacy.active}))
    } else if (legacy) {
      out.push(check('daemon.alone', d.name, 'pass', `no ${REPLACED_DAEMON_UNIT} running or enabled beside kaopsd`, {enabled: legacy.enabled, active: legacy.active}))
    }

    // Release: the executable on disk, what runs, and what the inventory asks for.
    const problems: string[] = []
    if (!a.binary.exists) problems.push(`no kaopsd executable at ${a.binary.path}`)
    if (opts.kaopsdSha256 && a.binary.sha256 && a.binary.sha256 !== opts.kaopsdSha256) problems.push(`executable sha256 ${a.binary.sha256.slice(0, 12)} is not the release kaops ships (${opts.kaopsdSha256.slice(0, 12)})`)
    if (status && a.binary.version && !a.binary.version.includes(status.version)) problems.push(`running ${status.version} but ${a.binary.path} is ${a.binary.version}: restart pending`)
    if (inv.kaopsd.version && status && status.version !== inv.kaopsd.version) problems.push(`running ${status.version}, the inventory asks for ${inv.kaopsd.version}`)
    const relEvidence = {binary: a.binary.version, sha256: a.binary.sha256, running: status?.version, release: status?.release, wanted: inv.kaopsd.version}
    out.push(problems.length ? check('kaopsd.release', d.name, 'fail', problems.join('; '), relEvidence) : check('kaopsd.release', d.name, status ? 'pass' : 'skip', status ? `release ${status.release ?? status.version} as described` : 'kaopsd not running: release not confirmed', relEvidence))

    // Config: the file on disk is the rendered one, and the daemon runs that file.
    const want = d.files.find((x) => x.path === KAOPSD_CONFIG_PATH)
    const got = a.files.find((x) => x.path === KAOPSD_CONFIG_PATH)
    if (want) {
      const wantHash = sha256(want.content)
      const cfg: string[] = []
      if (!got?.exists) cfg.push(`${KAOPSD_CONFIG_PATH} is missing`)
      else if (got.sha256 !== wantHash) cfg.push(`${KAOPSD_CONFIG_PATH} differs from the inventory's rendering (edited by hand or not applied)`)
      const loaded = stripHash(status?.configHash)
      const onDiskLoadHash = got?.content !== undefined ? configHashOf(KAOPSD_CONFIG_PATH, got.content) : undefined
      if (status && loaded !== onDiskLoadHash && loaded !== configHashOf(KAOPSD_CONFIG_PATH, want.content)) cfg.push('kaopsd runs a configuration that is not the file on disk: reload pending')
      else if (status && onDiskLoadHash && loaded !== onDiskLoadHash) cfg.push('kaopsd runs an older configuration than the file on disk: reload pending')
      const ev = {wanted: wantHash.slice(0, 12), onDisk: got?.sha256?.slice(0, 12), loaded: loaded?.slice(0, 12)}
      out.push(cfg.length ? check('kaopsd.config', d.name, 'fail', cfg.join('; '), ev) : check('kaopsd.config', d.name, 'pass', 'configuration as the inventory renders it, and loaded', ev))
    }

    // Firewall: kaops' accept rules are in place and nothing else drops VRRP.
    const fwManaged = d.files.some((x) => /nft|firewalld|iptables/.test(x.path))
    if (!fwManaged) out.push(check('firewall.vrrp', d.name, 'skip', 'the inventory manages no firewall on this host', {flavour: a.firewall.flavour}))
    else {
      const blockers = f.extra ? findVrrpBlockers(f.extra.nftRuleset, f.extra.iptables) : []
      const fw: string[] = []
      if (!a.firewall.vrrpRulesPresent) fw.push(`kaops' VRRP accept rules are not loaded (${a.firewall.flavour})`)
      for (const b of blockers) fw.push(`${b.where} blocks VRRP: ${b.rule}`)
      out.push(fw.length ? check('firewall.vrrp', d.name, 'fail', fw.join('; '), {flavour: a.firewall.flavour, blockers}) : check('firewall.vrrp', d.name, 'pass', `VRRP allowed (${a.firewall.flavour})`, {flavour: a.firewall.flavour}))
    }
  }
  if (d.roles.includes('real-server') && d.loopbackVips.length > 0) {
    const missing = d.loopbackVips.filter((v) => !interfacesWith(a, v).includes('lo'))
    out.push(
      missing.length
        ? check('rs.lo-vip', d.name, 'fail', `VIP not on lo: ${missing.join(', ')} (the real server drops the director's DR traffic)`, {wanted: d.loopbackVips, lo: a.addresses.filter((x) => x.ifname === 'lo').map((x) => x.cidr)})
        : check('rs.lo-vip', d.name, 'pass', `${d.loopbackVips.join(', ')} on lo`, {wanted: d.loopbackVips}),
    )
    const wrong = d.sysctl
      .filter((s) => /arp_(ignore|announce)$/.test(s.key))
      .map((s) => ({key: s.key, wanted: s.value, actual: a.sysctl.find((x) => x.key === s.key)?.value}))
      .filter((s) => s.actual !== s.wanted)
    out.push(
      wrong.length
        ? check('rs.arp-sysctl', d.name, 'fail', `ARP settings wrong: ${wrong.map((w) => `${w.key}=${w.actual ?? 'unset'} (want ${w.wanted})`).join(', ')}: this host may answer ARP for the VIP`, {wrong})
        : check('rs.arp-sysctl', d.name, 'pass', 'arp_ignore=1, arp_announce=2 on all, default, lo', {}),
    )
  }
  return out
}

/** Who should hold `vip` given what the daemons report, and why. */
function expectedHolder(vip: Vip, directors: string[], facts: VerifyFacts): {name: string | undefined; why: string; judgedBy: 'status' | 'inventory'} {
  const preferred = expectedMaster(vip)
  const seen = directors.map((n) => ({n, st: instanceOf(latestStatus(facts.hosts[n]), vip.name)}))
  if (seen.every((s) => !s.st)) return {name: preferred, why: 'kaopsd status unavailable: judged by inventory priorities only', judgedBy: 'inventory'}
  const eligible = seen.filter((s) => s.st && s.st.state !== 'FAULT' && s.st.state !== 'STOP' && s.st.effectivePriority > 0)
  eligible.sort((a, b) => b.st!.effectivePriority - a.st!.effectivePriority || directors.indexOf(a.n) - directors.indexOf(b.n))
  const best = eligible[0]
  if (!best) return {name: undefined, why: 'every director is in FAULT or stopped', judgedBy: 'status'}
  const reasons: string[] = []
  for (const s of seen) {
    if (s.n === best.n) continue
    if (!s.st) reasons.push(`${s.n}: kaopsd not running`)
    else if (s.st.state === 'FAULT') reasons.push(`${s.n}: FAULT`)
    else if (s.st.effectivePriority < s.st.priority) reasons.push(`${s.n}: priority ${s.st.priority} lowered to ${s.st.effectivePriority} by tracking`)
  }
  return {name: best.n, why: reasons.join('; '), judgedBy: 'status'}
}

function vipChecks(inv: Inventory, vip: Vip, facts: VerifyFacts): {checks: CheckResult[]; holder?: string} {
  const out: CheckResult[] = []
  const directors = vipDirectors(inv, vip).map((d) => d.name)
  const unread = directors.filter((n) => !facts.hosts[n]?.actual)
  const byAddress = vip.addresses.map((a) => ({address: a.address, holders: directors.filter((n) => interfacesWith(facts.hosts[n]?.actual, a.address).length > 0)}))
  const allHolders = [...new Set(byAddress.flatMap((x) => x.holders))]
  const ev: Record<string, unknown> = {holders: byAddress, unread}
  let holder: string | undefined
  const outage = byAddress.filter((x) => x.holders.length === 0)
  const split = byAddress.filter((x) => x.holders.length > 1)
  if (unread.length === directors.length) {
    out.push(check('vip.placement', vip.name, 'fail', `cannot tell: no director of ${vip.name} could be read (${unread.join(', ')})`, ev))
  } else if (outage.length) {
    out.push(check('vip.placement', vip.name, 'fail', `outage: no director holds ${outage.map((x) => x.address).join(', ')}${unread.length ? ` (unread: ${unread.join(', ')})` : ''}`, ev))
  } else if (split.length) {
    out.push(check('vip.placement', vip.name, 'fail', `split brain: ${split.map((x) => `${x.address} held by ${x.holders.join(' and ')}`).join('; ')}`, ev))
  } else if (allHolders.length > 1) {
    out.push(check('vip.placement', vip.name, 'fail', `addresses of one instance are spread over ${allHolders.join(', ')}`, ev))
  } else {
    holder = allHolders[0]!
    const exp = expectedHolder(vip, directors, facts)
    const hs = instanceOf(latestStatus(facts.hosts[holder]), vip.name)
    ev.expected = exp.name
    ev.holderState = hs?.state
    if (hs && hs.state !== 'MASTER') {
      out.push(check('vip.placement', vip.name, 'fail', `${holder} holds the VIP but its kaopsd is ${hs.state}: added by hand or left behind`, ev))
    } else if (holder === exp.name) {
      out.push(check('vip.placement', vip.name, 'pass', `held by ${holder} only${exp.why ? ` (${exp.why})` : ''}`, ev))
    } else if (!vip.preempt && hs?.state === 'MASTER') {
      out.push(check('vip.placement', vip.name, 'pass', `held by ${holder}; ${exp.name} has the higher priority but the instance is nopreempt`, ev))
    } else {
      out.push(check('vip.placement', vip.name, 'fail', `held by ${holder}, expected ${exp.name ?? 'nobody'}${exp.why ? ` (${exp.why})` : ''}`, ev))
    }
  }

  // Peers agree on what identifies and authenticates the instance.
  const fields: Array<{host: string; f?: InstanceFields; st?: VrrpInstanceStatus}> = directors.map((n) => {
    const content = facts.hosts[n]?.actual?.files.find((x) => x.path === KAOPSD_CONFIG_PATH)?.content
    return {host: n, f: content ? instanceFields(content).find((i) => i.name === vip.name) : undefined, st: instanceOf(latestStatus(facts.hosts[n]), vip.name)}
  })
  const known = fields.filter((x) => x.f || x.st)
  if (known.length < 2) {
    out.push(check('vrrp.peers-agree', vip.name, 'skip', 'fewer than two peers readable (config file or status)', {}))
  } else {
    const values = (key: string, get: (x: (typeof fields)[number]) => unknown) => known.map((x) => ({host: x.host, value: get(x)})).filter((v) => v.value !== undefined)
    const compared: Record<string, Array<{host: string; value: unknown}>> = {
      virtual_router_id: values('vrid', (x) => x.f?.vrid ?? x.st?.vrid),
      advert_int: values('advert', (x) => x.f?.advertInt),
      auth_type: values('authType', (x) => x.f?.authType ?? 'none'),
      auth_pass: values('auth', (x) => x.f && (x.f.authHash ?? 'none')),
      virtual_ipaddress: values('vips', (x) => (x.f?.vips ?? x.st?.vips)?.map((v) => hostPart(v)).sort().join(',')),
    }
    const differ = Object.entries(compared).filter(([, vs]) => new Set(vs.map((v) => JSON.stringify(v.value))).size > 1)
    out.push(
      differ.length
        ? check('vrrp.peers-agree', vip.name, 'fail', `peers disagree on ${differ.map(([k, vs]) => `${k} (${vs.map((v) => `${v.host}: ${String(v.value)}`).join(', ')})`).join('; ')}`, compared)
        : check('vrrp.peers-agree', vip.name, 'pass', `${known.length} peers agree on VRID, advert_int, auth and VIPs`, compared),
    )
  }

  // Adverts flowing and no receive errors rising, between the two status reads.
  for (const n of directors) {
    const subject = `${vip.name}@${n}`
    const x = facts.hosts[n]?.extra
    const a = instanceOf(x?.status1, vip.name)
    const b = instanceOf(x?.status2, vip.name)
    if (!a || !b) {
      const why = !x?.status1 || !x?.status2 ? 'kaopsd status unavailable' : `instance ${vip.name} missing from kaopsd status`
      out.push(check('vrrp.adverts', subject, x?.status2 && !b ? 'fail' : 'skip', why, {}))
      out.push(check('vrrp.rx-errors', subject, 'skip', why, {}))
      continue
    }
    const sent = b.stats.advert_sent - a.stats.advert_sent
    const rcvd = b.stats.advert_rcvd - a.stats.advert_rcvd
    const ev2 = {state: b.state, gapMs: x!.gapMs, advert_sent: [a.stats.advert_sent, b.stats.advert_sent], advert_rcvd: [a.stats.advert_rcvd, b.stats.advert_rcvd]}
    if (b.state === 'MASTER') out.push(check('vrrp.adverts', subject, sent > 0 ? 'pass' : 'fail', sent > 0 ? `MASTER sent ${sent} adverts in ${x!.gapMs} ms` : `MASTER sent no advert in ${x!.gapMs} ms`, ev2))
    else if (b.state === 'BACKUP') out.push(check('vrrp.adverts', subject, rcvd > 0 ? 'pass' : 'fail', rcvd > 0 ? `BACKUP received ${rcvd} adverts in ${x!.gapMs} ms` : `BACKUP received no advert in ${x!.gapMs} ms (master silent, or VRRP blocked)`, ev2))
    else out.push(check('vrrp.adverts', subject, 'fail', `instance is ${b.state}`, ev2))
    const rising = RX_ERROR_COUNTERS.map((c) => ({counter: c, delta: (b.stats[c] ?? 0) - (a.stats[c] ?? 0), now: b.stats[c] ?? 0})).filter((r) => r.delta > 0)
    out.push(
      rising.length
        ? check('vrrp.rx-errors', subject, 'fail', `receive errors rising: ${rising.map((r) => `${r.counter} +${r.delta}${RX_HINT[r.counter] ? ` (${RX_HINT[r.counter]})` : ''}`).join(', ')}`, {rising})
        : check('vrrp.rx-errors', subject, 'pass', 'no receive error counter rising', {}),
    )
  }
  return {checks: out, holder}
}

function macOwners(facts: VerifyFacts): Map<string, string> {
  const m = new Map<string, string>()
  for (const [name, h] of Object.entries(facts.hosts)) for (const [ifname, mac] of Object.entries(h.extra?.macs ?? {})) m.set(mac, `${name}/${ifname}`)
  return m
}

function arpChecks(inv: Inventory, vip: Vip, holder: string | undefined, facts: VerifyFacts): CheckResult[] {
  const owners = macOwners(facts)
  return vip.addresses.map((addr) => {
    const ip = hostPart(addr.address)
    const subject = `${vip.name} ${ip}`
    if (!facts.probeHost) return check('arp.owner', subject, 'skip', 'the inventory has no probe host to ask from', {})
    const obs = facts.arp.find((o) => sameIp(o.address, ip))
    if (facts.hosts[facts.probeHost]?.error) return check('arp.owner', subject, 'skip', `probe host ${facts.probeHost} could not be read`, {})
    if (!obs || obs.method === 'none') return check('arp.owner', subject, 'skip', `${facts.probeHost} has neither arping nor ip neigh`, {})
    if (!holder && obs.macs.length > 0) return check('arp.owner', subject, 'skip', `no single director holds ${ip} to compare the ARP answers with (${obs.macs.join(', ')})`, {macs: obs.macs})
    const who = obs.macs.map((mac) => ({mac, host: owners.get(mac) ?? 'unknown host'}))
    const ev = {method: obs.method, from: facts.probeHost, answers: who, holder, raw: obs.raw.split('\n').slice(0, 6)}
    if (who.length === 0) return check('arp.owner', subject, 'fail', `nobody answered ARP for ${ip} (asked from ${facts.probeHost} with ${obs.method})`, ev)
    const others = who.filter((w) => !holder || !w.host.startsWith(`${holder}/`))
    if (others.length === 0) return check('arp.owner', subject, 'pass', `only ${holder} answers ARP for ${ip} (${obs.method})`, ev)
    return check('arp.owner', subject, 'fail', `${others.map((w) => `${w.host} (${w.mac})`).join(', ')} answer${others.length === 1 ? 's' : ''} ARP for ${ip}${holder ? `, not only ${holder}` : ''}${obs.method === 'neigh' ? ' (one answer seen: ip neigh)' : ''}`, ev)
  })
}

function serviceChecks(inv: Inventory, holders: Map<string, string | undefined>, facts: VerifyFacts): CheckResult[] {
  return inv.services.map((s) => {
    const subject = `service ${s.name}`
    const vip = serviceVip(inv, s)
    const address = serviceAddress(inv, s)
    const holder = vip ? holders.get(vip.name) : undefined
    const status = holder ? latestStatus(facts.hosts[holder]) : undefined
    if (!holder || !status) return check('service.realservers', subject, 'skip', holder ? `kaopsd status unavailable on ${holder}` : 'no single director holds its VIP', {})
    const vs = status.virtualServers.find((v) => v.port === s.port && v.address !== null && address !== undefined && sameIp(v.address, address))
    if (!vs) return check('service.realservers', subject, 'fail', `${holder}'s kaopsd has no virtual server ${address}:${s.port}`, {keys: status.virtualServers.map((v) => v.key)})
    const wanted = s.realServers.map((r) => ({name: r.name, address: hostPart(inv.realServers.find((x) => x.name === r.name)?.address ?? r.name), port: r.port ?? s.port}))
    const rows = wanted.map((w) => ({...w, seen: vs.realServers.find((r) => sameIp(r.address, w.address) && r.port === w.port)}))
    const down = rows.filter((r) => !r.seen?.up)
    const ev = {director: holder, quorumUp: vs.quorumUp, realServers: rows.map((r) => ({name: r.name, up: r.seen?.up ?? null, detail: r.seen?.lastCheck?.detail}))}
    if (down.length) return check('service.realservers', subject, 'fail', `down as ${holder}'s checkers see them: ${down.map((r) => `${r.name} (${r.seen ? (r.seen.lastCheck?.detail ?? 'down') : 'not configured'})`).join(', ')}`, ev)
    return check('service.realservers', subject, 'pass', `all ${rows.length} real servers up as ${holder}'s checkers see them`, ev)
  })
}

/** Every invariant, in a stable order: hosts, then VIPs, then ARP, then services. Pure. */
export function checkInvariants(inventory: Inventory, desired: DesiredHost[], facts: VerifyFacts, opts: InvariantOptions = {}): CheckResult[] {
  const out: CheckResult[] = []
  for (const d of desired) if (!d.roles.includes('probe') || facts.hosts[d.name]?.error) out.push(...hostChecks(inventory, d, facts.hosts[d.name], opts))
  const holders = new Map<string, string | undefined>()
  const arp: CheckResult[] = []
  for (const v of inventory.vips) {
    const r = vipChecks(inventory, v, facts)
    holders.set(v.name, r.holder)
    out.push(...r.checks)
    arp.push(...arpChecks(inventory, v, r.holder, facts))
  }
  out.push(...arp, ...serviceChecks(inventory, holders, facts))
  return out
}

/** Exit 0 only when everything holds: a skip is not a failure, a fail is. */
export const allHold = (checks: CheckResult[]): boolean => checks.every((c) => c.status !== 'fail')
