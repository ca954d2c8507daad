/**
 * About this machine (where kaops runs), for the lab's and apply's stale-lock checks: one
 * definition of "is that process still there".
 */

/** Whether a process with this pid exists (EPERM: it does, but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
