/**
 * A real SMTP receiver for tests (smtp-server, the server half of nodemailer's project) on 127.0.0.1
 * port 0: plain SMTP without STARTTLS or authentication, every message kept in order of arrival.
 */
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail {
  readonly to: string[]
  readonly from: string
  readonly raw: string
}

export class SmtpReceiver {
  readonly mails: ReceivedMail[] = []
  port = 0
  readonly #server: SMTPServer
  #waiters: { count: number; resolve: () => void }[] = []

  constructor() {
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, done) => {
        const chunks: Buffer[] = []
        stream.on('data', (c: Buffer) => chunks.push(c))
        stream.on('end', () => {
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          })
          this.#waiters = this.#waiters.filter((w) => {
            if (this.mails.length < w.count) return true
            w.resolve()
            return false
          })
          done()
        })
      },
    })
  }

  static async start(): Promise<SmtpReceiver> {
    const receiver = new SmtpReceiver()
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve))
    receiver.port = (receiver.#server.server.address() as { port: number }).port
    return receiver
  }

  /** Resolves once `count` messages in all have arrived. */
  waitFor(count: number, timeout = 20_000): Promise<void> {
    if (this.mails.length >= count) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fewer than ${count} mails within ${timeout} ms`)),
        timeout,
      )
      this.#waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      })
    })
  }

  /** The first link in message `index` that starts with `prefix`, quoted-printable soft breaks undone. */
  link(index: number, prefix: string): string {
    const text = this.mails[index]!.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=')
    const at = text.indexOf(prefix)
    if (at === -1) throw new Error(`no link ${prefix} in mail ${index}:\n${text}`)
    return /^\S+/.exec(text.slice(at))![0]
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}
