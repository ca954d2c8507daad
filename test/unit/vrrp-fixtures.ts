import {createRouter, step, type Router, type RouterAction, type RouterConfig, type RouterEvent} from '../../src/daemon/vrrp/router.js'

/** The router configuration the VRRP unit and conformance tests start from (keepalived's defaults). */
export function routerConfig(over: Partial<RouterConfig> = {}): RouterConfig {
  return {
    name: 'VI_1',
    vrid: 51,
    version: 2,
    family: 'ipv4',
    priority: 100,
    advertIntervalCs: 100,
    preempt: true,
    preemptDelayCs: 0,
    addresses: ['198.18.240.100'],
    excludedAddresses: [],
    routes: [],
    primaryAddress: '198.18.240.2',
    unicastPeers: [],
    auth: {type: 'none'},
    skipCheckAdvAddr: false,
    checkUnicastSource: true,
    lowerPrioNoAdvert: false,
    garp: {masterDelayCs: 500, masterRepeat: 5, masterRefreshCs: 0, masterRefreshRepeat: 1, intervalCs: 0},
    ...over,
  }
}

/** Drives one router by hand; returns the router after all events and every action. */
export function drive(config: RouterConfig, events: [number, RouterEvent][]): {r: Router; actions: RouterAction[]} {
  let r = createRouter(config, 0)
  const actions: RouterAction[] = []
  for (const [at, ev] of events) {
    const out = step(r, ev, at)
    r = out.router
    actions.push(...out.actions)
  }
  return {r, actions}
}
