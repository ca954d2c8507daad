import type {Diagnostic, KeepalivedConfig, ScriptCommand, ScriptUser, SourceLocation} from '../../model/keepalived-config.js'
import {DiagnosticSink} from './diagnostics.js'
import type {HostEnv} from './host-env.js'
import {isExecutable, resolveProgram, scriptInsecurity, type Runner} from './script-security.js'

/**
 * The config test's checks that need the host: every interface named exists, every script
 * exists and, with enable_script_security, cannot be changed by anyone but root (or the user
 * it runs as). Pure over `env`, so tests describe the host they want.
 */
export function checkConfig(config: KeepalivedConfig, env: HostEnv): Diagnostic[] {
  const sink = new DiagnosticSink()
  checkInterfaces(config, env, sink)
  checkScripts(config, env, sink)
  return sink.items
}

function checkInterfaces(config: KeepalivedConfig, env: HostEnv, sink: DiagnosticSink): void {
  const present = new Set(env.listInterfaces())
  const need = (name: string | undefined, at: SourceLocation, what: string): void => {
    if (name !== undefined && name !== '' && !present.has(name)) sink.error(at, `${what}: interface '${name}' does not exist`)
  }
  for (const a of config.staticIpAddresses) need(a.dev, a.source, `static_ipaddress ${a.address}`)
  for (const r of config.staticRoutes) {
    need(r.dev, r.source, `static_routes ${r.destination}`)
    for (const h of r.nexthops) need(h.dev, r.source, `static_routes ${r.destination} nexthop`)
  }
  for (const v of config.vrrpInstances) {
    const label = `vrrp_instance ${v.name}`
    need(v.interface, v.source, label)
    need(v.lvsSyncDaemonInterface, v.source, `${label} lvs_sync_daemon_interface`)
    for (const t of v.trackInterfaces) need(t.name, t.source, `${label} track_interface`)
    for (const a of [...v.virtualIpAddresses, ...v.virtualIpAddressesExcluded]) need(a.dev, a.source, `${label} address ${a.address}`)
    for (const r of v.virtualRoutes) {
      need(r.dev, r.source, `${label} route ${r.destination}`)
      for (const h of r.nexthops) need(h.dev, r.source, `${label} route ${r.destination} nexthop`)
    }
  }
  for (const g of config.vrrpSyncGroups) for (const t of g.trackInterfaces) need(t.name, t.source, `vrrp_sync_group ${g.name} track_interface`)
  for (const vs of config.virtualServers) {
    for (const rs of vs.realServers) {
      for (const c of rs.checkers) if ('bindIf' in c) need(c.bindIf, c.source, `${c.type} bind_if`)
    }
  }
}

interface ScriptUse {
  command: ScriptCommand
  role: string
  user?: ScriptUser
  /** keepalived disables a missing track script and its -t fails; a missing notify script is silent. */
  missingIsError: boolean
}

function scriptUses(config: KeepalivedConfig): ScriptUse[] {
  const uses: ScriptUse[] = []
  const add = (command: ScriptCommand | undefined, role: string, missingIsError = false, user?: ScriptUser): void => {
    if (!command) return
    const u = user ?? command.user
    uses.push({command, role, missingIsError, ...(u ? {user: u} : {})})
  }
  for (const s of config.vrrpScripts) add(s.script, `vrrp_script ${s.name}`, true, s.user)
  const notifies = (label: string, o: {notifyMaster?: ScriptCommand; notifyBackup?: ScriptCommand; notifyFault?: ScriptCommand; notifyStop?: ScriptCommand; notify?: ScriptCommand; notifyMasterRxLowerPri?: ScriptCommand}): void => {
    add(o.notifyMaster, `${label} notify_master`)
    add(o.notifyBackup, `${label} notify_backup`)
    add(o.notifyFault, `${label} notify_fault`)
    add(o.notifyStop, `${label} notify_stop`)
    add(o.notify, `${label} notify`)
    add(o.notifyMasterRxLowerPri, `${label} notify_master_rx_lower_pri`)
  }
  for (const v of config.vrrpInstances) {
    notifies(`vrrp_instance ${v.name}`, v)
    add(v.notifyFifo?.script, `vrrp_instance ${v.name} notify_fifo_script`)
  }
  for (const g of config.vrrpSyncGroups) {
    notifies(`vrrp_sync_group ${g.name}`, g)
    add(g.notifyFifo?.script, `vrrp_sync_group ${g.name} notify_fifo_script`)
  }
  const gd = config.globalDefs
  add(gd.notifyFifo?.script, 'notify_fifo_script')
  add(gd.vrrpNotifyFifo?.script, 'vrrp_notify_fifo_script')
  add(gd.lvsNotifyFifo?.script, 'lvs_notify_fifo_script')
  for (const vs of config.virtualServers) {
    add(vs.quorumUp, 'quorum_up')
    add(vs.quorumDown, 'quorum_down')
    for (const rs of vs.realServers) {
      add(rs.notifyUp, `real_server ${rs.address} notify_up`)
      add(rs.notifyDown, `real_server ${rs.address} notify_down`)
      for (const c of rs.checkers) if (c.type === 'MISC_CHECK') add(c.miscPath, `real_server ${rs.address} MISC_CHECK misc_path`, false, c.user)
    }
  }
  return uses
}

function checkScripts(config: KeepalivedConfig, env: HostEnv, sink: DiagnosticSink): void {
  const uses = scriptUses(config)
  if (uses.length === 0) return
  const gd = config.globalDefs
  const secure = gd.enableScriptSecurity
  // keepalived's default script user: keepalived_script when it exists, else root; with
  // script security on, keepalived 2.2 refuses to fall back to root silently.
  let defaultUser: ScriptUser | undefined = gd.scriptUser
  if (!defaultUser) {
    if (env.lookupUser('keepalived_script')) defaultUser = {user: 'keepalived_script'}
    else if (secure && uses.some((u) => !u.user)) {
      sink.error(gd.source ?? {file: config.files[0] ?? '', line: 0}, "enable_script_security is on, no script_user is set and user 'keepalived_script' does not exist: set script_user (e.g. 'script_user root')")
    }
  }
  let warnedRoot = false
  for (const use of uses) {
    const at = use.command.source
    const program = use.command.argv[0] ?? ''
    const path = resolveProgram(program, env)
    const info = path ? env.stat(path) : undefined
    if (!path || !info) {
      const message = `${use.role}: script '${program}' not found`
      if (use.missingIsError) sink.error(at, `${message}; keepalived would disable it`)
      else sink.warning(at, message)
      continue
    }
    if (!isExecutable(info)) {
      const message = `${use.role}: '${path}' is not executable`
      if (use.missingIsError) sink.error(at, message)
      else sink.warning(at, message)
      continue
    }
    const who = use.user ?? defaultUser ?? {user: 'root'}
    const user = env.lookupUser(who.user)
    if (!user) {
      sink.error(at, `${use.role}: user '${who.user}' to run the script as does not exist`)
      continue
    }
    let gid = user.gid
    if (who.group) {
      const group = env.lookupGroup(who.group)
      if (!group) {
        sink.error(at, `${use.role}: group '${who.group}' to run the script as does not exist`)
        continue
      }
      gid = group.gid
    }
    const runner: Runner = {uid: user.uid, gid}
    if (!secure) {
      if (runner.uid === 0 && !warnedRoot) {
        warnedRoot = true
        sink.warning(at, 'scripts will run as root but enable_script_security is off; kaopsd cannot refuse a script that others could change')
      }
      continue
    }
    const real = env.realpath(path) ?? path
    const problem = scriptInsecurity(real, runner, env)
    if (problem) sink.error(at, `${use.role}: unsafe script with enable_script_security: ${problem} (it runs as ${who.user})`)
  }
}
