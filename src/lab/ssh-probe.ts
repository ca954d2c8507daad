import {connect} from 'node:net'

/** True when something on address:port greets like sshd ("SSH-") within timeoutMs. */
export function sshAnswers(address: string, port = 22, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host: address, port})
    let seen = ''
    const done = (ok: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      seen += chunk
      if (seen.length >= 4) done(seen.startsWith('SSH-'))
    })
    socket.once('error', () => done(false))
    socket.once('close', () => done(false))
  })
}
