import {test} from 'node:test'
import assert from 'node:assert/strict'
import {defaultGlobalDefs, type ScriptCommand} from '../../src/model/keepalived-config.js'
import {alertMessage, alertWanted, fifoLine, scriptsFor, type TransitionEvent} from '../../src/daemon/notify/events.js'

const cmd = (command: string): ScriptCommand => ({command, argv: command.split(' '), source: {file: 'k.conf', line: 1}})
const ev = (over: Partial<TransitionEvent> = {}): TransitionEvent => ({
  kind: 'INSTANCE', name: 'VI_1', from: 'BACKUP', to: 'MASTER', priority: 150, reason: 'master down timer expired', ...over,
})

test('FIFO lines are exactly keepalived\'s: TYPE "NAME" STATE PRIORITY', () => {
  assert.equal(fifoLine(ev()), 'INSTANCE "VI_1" MASTER 150\n')
  assert.equal(fifoLine(ev({kind: 'GROUP', name: 'VG_1', to: 'FAULT', priority: 0})), 'GROUP "VG_1" FAULT 0\n')
})

test('the state\'s own script runs before the generic notify, which gets TYPE NAME STATE PRIORITY', () => {
  const cfg = {notifyMaster: cmd('/m.sh x'), notifyBackup: cmd('/b.sh'), notifyFault: cmd('/f.sh'), notifyStop: cmd('/s.sh'), notify: cmd('/n.sh y')}
  const planned = scriptsFor(ev(), cfg)
  assert.deepEqual(planned.map((p) => [p.cmd.command, p.extraArgs]), [['/m.sh x', []], ['/n.sh y', ['INSTANCE', 'VI_1', 'MASTER', '150']]])
  assert.deepEqual(scriptsFor(ev({to: 'STOP'}), cfg).map((p) => p.cmd.command), ['/s.sh', '/n.sh y'])
  assert.deepEqual(scriptsFor(ev({to: 'FAULT'}), {notify: cmd('/n.sh')}).map((p) => p.extraArgs), [['INSTANCE', 'VI_1', 'FAULT', '150']])
  // INIT is never announced.
  assert.deepEqual(scriptsFor(ev({to: 'INIT'}), cfg), [])
})

test('smtp_alert: the instance\'s own setting wins over the global ones', () => {
  const g = defaultGlobalDefs()
  assert.equal(alertWanted({}, g), false)
  assert.equal(alertWanted({smtpAlert: true}, g), true)
  assert.equal(alertWanted({}, {...g, smtpAlert: true}), true)
  assert.equal(alertWanted({}, {...g, smtpAlert: true, smtpAlertVrrp: false}), false)
  assert.equal(alertWanted({smtpAlert: false}, {...g, smtpAlert: true}), false)
})

test('the alert names router_id, the instance and the new state; the body gives the reason', () => {
  const g = {...defaultGlobalDefs(), routerId: 'lb01', notificationEmail: ['a@x.test', 'b@x.test']}
  const m = alertMessage(ev({reason: 'higher priority advert from 198.18.0.2', at: new Date('2026-01-02T03:04:05Z')}), g, 'director1')
  assert.equal(m.subject, '[lb01] VRRP instance VI_1: MASTER')
  assert.equal(m.from, 'keepalived@director1')
  assert.deepEqual(m.to, ['a@x.test', 'b@x.test'])
  assert.match(m.text, /reason: +higher priority advert from 198\.18\.0\.2/)
  assert.match(m.text, /BACKUP -> MASTER/)
  assert.match(m.text, /2026-01-02T03:04:05\.000Z/)
  // router_id defaults to the host name; notification_email_from is used when given.
  const m2 = alertMessage(ev({kind: 'GROUP', name: 'G1', to: 'STOP'}), {...g, routerId: undefined, notificationEmailFrom: 'ha@x.test'}, 'director1')
  assert.equal(m2.subject, '[director1] VRRP sync group G1: STOP')
  assert.equal(m2.from, 'ha@x.test')
})
