/**
 * `kaopsd status`: asks a running kaopsd over its control socket and prints what it says.
 *
 * STUB until the control socket (src/daemon/control/) lands; its owner replaces this body.
 */
export async function statusCommand(
  _opts: {controlSocket: string; json: boolean},
  io: {out: (text: string) => void; err: (text: string) => void},
): Promise<number> {
  io.err('kaopsd status: not implemented yet (the control socket has not landed)\n')
  return 1
}

/** `kaopsd genhash`: STUB until its command line is written over src/daemon/check/genhash.ts. */
export async function genhashCommand(
  _args: string[],
  io: {out: (text: string) => void; err: (text: string) => void},
): Promise<number> {
  io.err('kaopsd genhash: not implemented yet\n')
  return 1
}
