/** The glue commands use to show rollout progress: one place, so apply and rollback look alike. */
import {pickRenderer, RolloutProgress} from './progress.js'
import {describeHost} from './summary.js'
import type {RolloutResult} from './rollout.js'
import type {ProgressEvent} from './rollout-env.js'

export function rolloutProgress(json: boolean): {
  progress: (e: ProgressEvent) => void
  around: (hosts: string[], fn: () => Promise<RolloutResult>) => Promise<RolloutResult>
} {
  const renderer = pickRenderer({json, isTTY: Boolean(process.stderr.isTTY), ci: Boolean(process.env.CI)})
  let current: RolloutProgress | undefined
  return {
    progress: (e) => current?.onEvent(e),
    around: (hosts, fn) => {
      current = new RolloutProgress(hosts, renderer)
      return current.run(fn, (r, host) => {
        const h = r.hosts.find((x) => x.host === host)
        if (!h) return {ok: true, text: 'not in this rollout'}
        return {ok: !['failed', 'failed-nothing-switched', 'rolled-back', 'rollback-failed'].includes(h.state), text: describeHost(h)}
      })
    },
  }
}
