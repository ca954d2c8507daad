/** A recorded crash drill (capture, probe log, address monitor) for the measurement and report tests. */
import {arpFrame, vrrpFrame, writePcap, type FrameSpec} from '../../src/verify/pcap.js'
import {masterDownMs, type MeasureInput} from '../../src/verify/drill-measure.js'

export const M1 = '02:00:00:00:00:11'
export const M2 = '02:00:00:00:00:12'
export const T = 1_800_000_000_000
export const VIP = '198.18.0.100'

/**
 * A recorded crash drill, built as the wire would carry it: dir1 (150) advertises every second
 * and dies after its advert at T+3000; dir2 (100) takes over after Master_Down_Interval
 * (3 s + skew 609.375 ms) plus 1.5 ms, sends GARP; dir1 comes back at T+10000 and preempts.
 */
export function crashCapture(): {pcap: Buffer; probe: string; addr: string} {
  const frames: FrameSpec[] = []
  for (let t = 0; t <= 3000; t += 1000) frames.push({t: T + t, frame: vrrpFrame(M1, '198.18.0.11', 51, 150, [VIP])})
  frames.push({t: T + 3200, frame: arpFrame('02:00:00:00:00:31', '198.18.0.31', VIP)})
  const take = T + 3000 + masterDownMs(100, 1000) + 1.5
  frames.push({t: take, frame: vrrpFrame(M2, '198.18.0.12', 51, 100, [VIP])})
  frames.push({t: take + 0.4, frame: arpFrame(M2, VIP, VIP)})
  for (let t = take + 1000; t < T + 13600; t += 1000) frames.push({t, frame: vrrpFrame(M2, '198.18.0.12', 51, 100, [VIP])})
  const back = T + 13700
  frames.push({t: back, frame: vrrpFrame(M1, '198.18.0.11', 51, 150, [VIP])})
  frames.push({t: back + 0.3, frame: arpFrame(M1, VIP, VIP, 2)})
  const probe: string[] = []
  for (let t = T; t < T + 15000; t += 10) probe.push(`${t} ${t > T + 3050 && t < take ? 0 : 1} 1`)
  const iso = (t: number) => new Date(t).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000')
  const addr = `[${iso(Math.round(take + 0.2))}] 2: eth0    inet ${VIP}/24 scope global secondary eth0\n       valid_lft forever preferred_lft forever\n[${iso(back + 1)}] Deleted 2: eth0    inet ${VIP}/24 scope global secondary eth0\n`
  return {pcap: writePcap(frames), probe: probe.join('\n'), addr}
}

export const input = (events: MeasureInput['events'], over: Partial<MeasureInput> = {}): MeasureInput => ({
  fault: 'crash', vrid: 51, version: 2, advertIntervalMs: 1000, vip: VIP,
  directors: {'198.18.0.11': 'dir1', '198.18.0.12': 'dir2'}, oldMaster: 'dir1', priorities: {dir1: 150, dir2: 100},
  preempt: true, tFault: T + 3050, tRestore: T + 10000, toleranceMs: 50, probeTimeoutMs: 100, events, ...over,
})

