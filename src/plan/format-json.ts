/** The plan for machines (`--json`): the Plan object as is, versioned by `format_version`.
 * It never holds file contents or secrets (diffs are redacted), unlike a saved plan. */
import type {Plan} from '../model/plan.js'

export function formatPlanJson(plan: Plan): string {
  const {format_version, ...rest} = plan
  return JSON.stringify({format_version, ...rest}, null, 2) + '\n'
}
