/**
 * The identity provider's self-service keys (issue 14): the account page, e-mail (SMTP), registration
 * and password reset. Registration and reset are off by default: each sends mail, so each needs
 * `identity.email` (normalize-identity.ts refuses the load otherwise, naming the key).
 */
import { z } from 'zod'

const seconds = (max: number) => z.int().min(1).max(max)

const smtpSettings = z
  .strictObject({
    url: z
      .url({ protocol: /^smtps?$/, error: 'expected an smtp:// or smtps:// URL' })
      .optional()
      .describe(
        'The SMTP server as a URL, e.g. `smtps://smtp.example:465` (credentials go in `auth`, so the password can be a vault reference). Either this or `host`.',
      ),
    host: z.string().min(1).optional().describe('The SMTP server host. Either this or `url`.'),
    port: z
      .int()
      .min(1)
      .max(65_535)
      .optional()
      .describe('The SMTP port. Default: 465 when `secure`, else 587.'),
    secure: z
      .boolean()
      .default(false)
      .describe(
        'TLS from the first byte (port 465). When false, STARTTLS is used whenever the server offers it. Default: false.',
      ),
    require_tls: z
      .boolean()
      .default(false)
      .describe(
        'Refuse to send unless the connection is encrypted (STARTTLS must succeed). Default: false; set it for any server that is not on a trusted network.',
      ),
    auth: z
      .strictObject({
        user: z.string().min(1).describe('The SMTP user name.'),
        pass: z.string().min(1).describe('The SMTP password (use `{vault://env/NAME}`).'),
      })
      .optional()
      .describe('SMTP authentication. Default: none.'),
    timeout: seconds(300)
      .default(30)
      .describe('Seconds to connect, greet and send before a message is given up. Default: 30.'),
  })
  .describe('The SMTP server mail is handed to (nodemailer).')

export const identityEmail = z
  .strictObject({
    smtp: smtpSettings,
    from: z
      .string()
      .min(3)
      .max(320)
      .describe('The From of every message, e.g. `Shop accounts <accounts@shop.example>`.'),
  })
  .optional()
  .describe(
    'Where the identity provider sends mail (verification and reset links). Required by `registration` and `password_reset`. Default: none (no mail).',
  )

export const identityAccount = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Serve the account page at `<issuer>/account`, where a signed-in person edits their profile, changes their password and ends their sessions. Default: true.',
      ),
  })
  .prefault({})
  .describe('The self-service account page.')

export const identityRegistration = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Let people create their own account at `<issuer>/register` (e-mail, username, password); the account exists only once the link mailed to them is used. Needs `identity.email`. Default: false.',
      ),
    link_ttl: seconds(604_800)
      .default(86_400)
      .describe('How long a verification link works, seconds. Default: 86400 (a day).'),
    roles: z
      .array(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/))
      .default([])
      .describe('Roles every registered account starts with. Default: none.'),
  })
  .prefault({})
  .describe('Self-registration by e-mail. Off by default.')

export const identityPasswordReset = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Offer "Forgot password?" on the login page: a single-use link, bound to the current password, mailed to the account. Needs `identity.email`. Default: false.',
      ),
    link_ttl: seconds(3600)
      .default(900)
      .describe('How long a reset link works, seconds. Default: 900 (15 minutes).'),
    max_requests: z
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe(
        'Reset mails per account within `link_ttl`; more requests get the same answer and no mail. Per client address: 4× this. Default: 3.',
      ),
  })
  .prefault({})
  .describe('Password reset by e-mail. Off by default.')
