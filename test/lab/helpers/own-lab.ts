// A lab test file's own lab, brought up from scratch before its tests and torn down after them,
// even on failure. What this machine lacks (root, nspawn, a built kaopsd) is a skip with the
// reason; a lab that should come up here and does not is a failure, not a skip.
import {existsSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {defaultKaopsdPath} from '../../../src/plan/kaopsd-artifact.js'
import {whyNotHere} from './preconditions.js'

export interface OwnLab {
  /** Why the tests cannot run here, or undefined. */
  skip: string | undefined
  /** A private scratch directory for the file's tests. */
  tmp: string
  up(): Promise<void>
  down(): Promise<void>
}

export function ownLab(inventory: string, opts: {name: string; needsKaopsd?: boolean}): OwnLab {
  let lab: typeof import('../../../src/lab/lab.js') | undefined
  const self: OwnLab = {
    skip: undefined,
    tmp: '',
    async up() {
      self.skip = whyNotHere('network namespaces, containers', ['systemd-nspawn', 'debootstrap', 'ssh'])
      if (!self.skip && opts.needsKaopsd && !existsSync(defaultKaopsdPath())) self.skip = `kaopsd is not built (${defaultKaopsdPath()}): run npm run build`
      if (self.skip) return
      self.tmp = await mkdtemp(join(tmpdir(), `kaops-${opts.name}-`))
      lab = await import('../../../src/lab/lab.js')
      // From scratch: hosts left by an earlier, interrupted run would carry its state.
      await lab.labDown(inventory)
      await lab.labUp(inventory)
    },
    async down() {
      if (lab) await lab.labDown(inventory).catch(() => undefined)
      if (self.tmp) await rm(self.tmp, {recursive: true, force: true})
    },
  }
  return self
}
