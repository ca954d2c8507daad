/**
 * Every exit code kaops returns, in one place, so the README table and the code cannot drift.
 */
export const ExitCode = {
  ok: 0,
  /** Bad input (inventory, flags), a failed invariant, or an operation that failed. */
  error: 1,
  /** `plan --detailed-exitcode`: the plan has changes. */
  changes: 2,
  /** A precondition of this machine is missing (not root, no netns, a package missing). */
  environment: 3,
  /** A host could not be reached or refused us (SSH, host key). */
  unreachable: 4,
  /** Another operation holds the lock on a host. */
  locked: 5,
} as const

export type ExitCodeName = keyof typeof ExitCode
