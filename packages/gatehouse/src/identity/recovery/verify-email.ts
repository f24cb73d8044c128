/**
 * Verifying an e-mail address changed on the account page: a signed link (links.ts) bound to the
 * address, mailed to it; opening it sets `email_verified`. It dies when the address changes again.
 * Verifying is idempotent and harmless, so a GET does it (a mail scanner following the link proves
 * only that the mailbox received it). Audited when it changed something (a second use changes nothing).
 */
import type { StoredUser } from '../../storage/store.ts'
import { userTarget } from '../manage/audit.ts'
import type { SelfServiceContext, SelfServiceRequest } from '../self-service.ts'
import { auditOwnChange, linkActor } from '../self-service-audit.ts'
import { sendPage } from '../views/page.ts'
import { fail } from './forms.ts'
import { linkValid, peekLink, signLink } from './links.ts'
import { doneWithLinkPage } from './views.ts'

const PURPOSE = 'verify-email'
const TTL = 86_400

export function sendVerification(c: SelfServiceContext, user: StoredUser): void {
  if (c.mailer === null || user.email === null) return
  const token = signLink(c.keys.links, PURPOSE, { u: user.id }, TTL, user.email.toLowerCase())
  c.mailer.send({
    to: user.email,
    subject: 'Verify your e-mail address',
    text: `Open this link to verify the e-mail address of your account ${user.username}:\n\n${c.issuer}/account/verify-email?token=${token}\n\nThe link works for 24 hours. If you did not change your e-mail address, ignore this message.\n`,
    kind: 'email_verification',
    userId: user.id,
  })
}

export async function confirmEmail(c: SelfServiceContext, r: SelfServiceRequest): Promise<void> {
  const token = r.query.get('token') ?? ''
  const fields = peekLink(token, PURPOSE)
  const user = fields?.['u'] !== undefined ? await c.store.users.get(fields['u']) : undefined
  if (
    user === undefined ||
    user.email === null ||
    !linkValid(c.keys.links, token, PURPOSE, user.email.toLowerCase())
  )
    return fail(r, 400, 'Link expired', 'This link has expired or is no longer valid.')
  if (user.claims['email_verified'] !== true) {
    await c.store.users.update(user.id, {
      claims: { ...user.claims, email_verified: true },
      updated_at: Math.floor(Date.now() / 1000),
    })
    await auditOwnChange(c, linkActor(r, 'email-verification'), {
      action: 'user.email_verified',
      target: userTarget(user),
      detail: {},
    })
  }
  const page = doneWithLinkPage(
    'E-mail verified',
    'Your e-mail address is verified.',
    `${c.basePath}/account`,
  )
  sendPage(r.res, 200, page.title, page.body)
}
