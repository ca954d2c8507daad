/** `kaops status`: gather (SSH) -> SiteStatus (pure) -> screen or JSON. */
export {formatSiteStatus} from './format-status.js'
export {gatherStatusFacts} from './gather-status.js'
export {buildSiteStatus, type DirectorFacts, type SiteStatus, type VipStatus, type ServiceStatus} from './site-status.js'
