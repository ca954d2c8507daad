import {existsSync} from 'node:fs'
import {IpvsBackend} from './ipvs-backend.js'
import {localExec, type LbExec} from './lb-exec.js'
import {NftablesBackend} from './nftables-backend.js'
import type {LbBackend} from './types.js'

export type LvsBackendSetting = 'auto' | 'ipvs' | 'nftables'

/** `lvs_backend auto`: IPVS when the kernel has it (/proc/net/ip_vs exists), else nftables. */
export function chooseBackend(setting: LvsBackendSetting, kernelHasIpvs: boolean): {name: 'ipvs' | 'nftables'; reason: string} {
  if (setting === 'ipvs') return {name: 'ipvs', reason: 'lvs_backend ipvs'}
  if (setting === 'nftables') return {name: 'nftables', reason: 'lvs_backend nftables'}
  return kernelHasIpvs
    ? {name: 'ipvs', reason: 'lvs_backend auto: /proc/net/ip_vs exists, the kernel has IPVS'}
    : {name: 'nftables', reason: 'lvs_backend auto: no /proc/net/ip_vs (no IPVS in this kernel), using nftables'}
}

export function createBackend(
  setting: LvsBackendSetting,
  log: (line: string) => void,
  opts: {exec?: LbExec; procIpVs?: string} = {},
): LbBackend {
  const choice = chooseBackend(setting, existsSync(opts.procIpVs ?? '/proc/net/ip_vs'))
  log(`load balancing data plane: ${choice.name} (${choice.reason})`)
  const exec = opts.exec ?? localExec
  return choice.name === 'ipvs' ? new IpvsBackend(exec) : new NftablesBackend(exec)
}
