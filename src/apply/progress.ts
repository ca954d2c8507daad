/**
 * Progress with listr2, behind one function that picks the renderer: silent under --json,
 * live ('default') on a terminal, plain lines ('simple') without one or in CI. The rollout
 * knows nothing of listr2: it emits ProgressEvents, and each host's task follows them.
 */
import {Listr, type ListrTaskWrapper} from 'listr2'
import type {ProgressEvent} from './rollout-env.js'

export type RendererName = 'silent' | 'default' | 'simple'

export function pickRenderer(opts: {json: boolean; isTTY: boolean; ci: boolean}): RendererName {
  if (opts.json) return 'silent'
  if (!opts.isTTY || opts.ci) return 'simple'
  return 'default'
}

/**
 * A task list with one task per host that follows rollout events (the step running shows as
 * the task's output). `run(fn)` runs the rollout while the list renders; each task ends with
 * the host's final state, failed when the host failed.
 */
export class RolloutProgress {
  private readonly tasks = new Map<string, ListrTaskWrapper<unknown, never, never>>()

  constructor(
    private readonly hosts: string[],
    private readonly renderer: RendererName,
  ) {}

  readonly onEvent = (e: ProgressEvent): void => {
    const t = this.tasks.get(e.host)
    if (!t) return
    // Plain lines (CI logs) interleave hosts and do not show the task title: name the host.
    const who = this.renderer === 'simple' ? `${e.host} ` : ''
    if (e.type === 'step') t.output = `${who}${e.phase}: ${e.step}`
    else if (e.type === 'host-note') t.output = `${who}${e.note}`
  }

  async run<R>(fn: () => Promise<R>, describe: (result: R, host: string) => {ok: boolean; text: string}): Promise<R> {
    let finished!: (r: R | undefined) => void
    const outcome = new Promise<R | undefined>((resolve) => (finished = resolve))
    const list = new Listr(
      this.hosts.map((h) => ({
        title: h,
        task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
          this.tasks.set(h, task)
          const r = await outcome
          if (r === undefined) throw new Error('interrupted')
          const d = describe(r, h)
          task.title = `${h}: ${d.text}`
          if (!d.ok) throw new Error(d.text)
        },
      })),
      {concurrent: true, exitOnError: false, renderer: this.renderer, fallbackRenderer: 'simple', rendererOptions: {collapseErrors: false}} as never,
    )
    const listing = list.run().catch(() => undefined)
    let result: R | undefined
    try {
      result = await fn()
      return result
    } finally {
      finished(result)
      await listing
    }
  }
}
