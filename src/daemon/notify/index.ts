/** kaopsd's notifications: what the VRRP runtime calls on every transition. */
export {Notifier, type NotifierOptions} from './notifier.js'
export {alertMessage, alertWanted, fifoLine, scriptsFor, type TransitionEvent, type NotifyKind, type AlertMessage} from './events.js'
export {SmtpAlerter, type NotifyLog} from './mailer.js'
export {NotifyFifo} from './fifo.js'
