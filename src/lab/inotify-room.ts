import {readdir, readFile, readlink, writeFile} from 'node:fs/promises'

const LIMIT_FILE = '/proc/sys/fs/inotify/max_user_instances'

/** inotify instances open on this machine right now (all lab containers run as root). */
async function inotifyInstancesInUse(): Promise<number> {
  let count = 0
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === 'anon_inode:inotify') count++
    }
  }
  return count
}

/**
 * Every container's systemd takes a handful of inotify instances, and the kernel's default of
 * 128 per user runs out at about 20 containers across every lab on the machine: systemd then
 * dies at boot with "Too many open files", which looks like a container that does not boot.
 * Raise the limit when the hosts about to start would not fit; never lower it, since other labs
 * may be booting. Returns the message to show when it changed something.
 */
export async function ensureInotifyRoom(hostsToBoot: number): Promise<string | undefined> {
  if (hostsToBoot <= 0) return undefined
  const limit = Number((await readFile(LIMIT_FILE, 'utf8').catch(() => '0')).trim())
  if (!(limit > 0)) return undefined
  const inUse = await inotifyInstancesInUse()
  const needed = inUse + hostsToBoot * 8 + 64
  if (limit >= needed) return undefined
  const value = Math.max(1024, needed)
  await writeFile(LIMIT_FILE, `${value}\n`)
  return `fs.inotify.max_user_instances ${limit} is too low for ${hostsToBoot} more containers (${inUse} in use): raised to ${value}`
}
