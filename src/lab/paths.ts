import {join} from 'node:path'
import {DEFAULT_CACHE_DIR} from './lab-spec.js'

/**
 * Where the lab keeps things on this machine. One cache directory (KAOPS_LAB_CACHE or
 * ~/.cache/kaops/lab) holds the base images, per-host directories and one state file per bridge.
 */
export interface LabPaths {
  cacheDir: string
  /** The finished base root for a given stamp hash. */
  baseDir(hash: string): string
  hostDir(name: string): string
  stateFile(bridge: string): string
  lockFile: string
}

export function labPaths(cacheDir = process.env.KAOPS_LAB_CACHE || DEFAULT_CACHE_DIR): LabPaths {
  return {
    cacheDir,
    baseDir: (hash) => join(cacheDir, `base-${hash}`),
    hostDir: (name) => join(cacheDir, 'hosts', name),
    stateFile: (bridge) => join(cacheDir, `state-${bridge}.json`),
    lockFile: join(cacheDir, 'lab.lock'),
  }
}

/** Names of the kernel objects a host gets; `kaops-` marks them as ours. */
export const netnsName = (host: string): string => `kaops-${host}`
export const vethName = (host: string): string => `kv-${host}`
export const machineName = (host: string): string => `kaops-${host}`
export const netnsPath = (host: string): string => `/run/netns/${netnsName(host)}`
