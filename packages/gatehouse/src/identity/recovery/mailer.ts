/**
 * Mail to people (verification and reset links) through the configured SMTP server (nodemailer).
 * `send` never waits for the server: the message goes out after the answer, so how long a page takes
 * does not tell whether a message was sent (and so whether an account exists). A failure is logged with
 * the recipient's account id and the SMTP error, never the message body (it holds the link).
 */
import nodemailer, { type Transporter } from 'nodemailer'
import type { IdentityConfig } from '../../config/normalize-identity.ts'
import type { Logger } from '../../observability/logger.ts'

export interface Message {
  readonly to: string
  readonly subject: string
  readonly text: string
  /** For the log: what the message is (`password_reset`, ...) and whose it is. */
  readonly kind: string
  readonly userId?: string | undefined
}

export class Mailer {
  readonly #transport: Transporter
  readonly #from: string
  readonly #logger: Logger

  constructor(email: NonNullable<IdentityConfig['email']>, logger: Logger) {
    const { smtp } = email
    const timeout = smtp.timeout * 1000
    const common = {
      requireTLS: smtp.require_tls,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      ...(smtp.auth !== undefined && { auth: { user: smtp.auth.user, pass: smtp.auth.pass } }),
    }
    this.#transport =
      smtp.url !== undefined
        ? nodemailer.createTransport({ url: smtp.url, ...common } as never)
        : nodemailer.createTransport({
            host: smtp.host!,
            port: smtp.port ?? (smtp.secure ? 465 : 587),
            secure: smtp.secure,
            ...common,
          })
    this.#from = email.from
    this.#logger = logger
  }

  /** Queues `message`; returns at once. */
  send(message: Message): void {
    const log = { kind: message.kind, user_id: message.userId }
    void this.#transport
      .sendMail({ from: this.#from, to: message.to, subject: message.subject, text: message.text })
      .then(
        () => this.#logger.info(log, 'mail sent'),
        (err: Error & { code?: string; responseCode?: number }) =>
          this.#logger.error(
            { ...log, reason: err.code ?? 'smtp_error', smtp_status: err.responseCode, detail: err.message },
            'mail not sent',
          ),
      )
  }
}
