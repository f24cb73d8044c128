/**
 * Password reset by e-mail (issue 14), when identity.password_reset.enabled:
 *
 *   GET  /password-reset                 the form: username or e-mail
 *   POST /password-reset                 always the same answer ("if an account exists, we sent a
 *                                        link"); the lookup and the mail happen after the answer, so
 *                                        its timing tells nothing either
 *   GET  /password-reset/confirm?token=  the new-password form, for a valid link
 *   POST /password-reset/confirm         sets it: the policy of admin-set passwords, argon2id, every
 *                                        session and grant of the account ended (sign out everywhere)
 *
 * A link is signed and bound to the account's password hash (links.ts): it works once, for link_ttl
 * seconds, and dies as soon as the password changes. Requests are limited per client address (4×
 * max_requests per link_ttl, then 429: it says nothing about any account) and per account
 * (max_requests mails per link_ttl; more get the same answer and no mail). Users the configuration
 * file declares, disabled users and users without an address get no mail. A reset is audited as what it
 * changed (the password, the sign-out, a login lock cleared), the actor the link's holder; never the link.
 */
import { hashPasswordAsync } from '../../crypto/argon2id.ts'
import type { StoredUser } from '../../storage/store.ts'
import { newPasswordProblem } from '../account-page/password.ts'
import { type AuditDetailOf, userTarget } from '../manage/audit.ts'
import { signOutEverywhere } from '../manage/sessions.ts'
import { declaredInFile, replacePasswordHash, unlock } from '../manage/users.ts'
import type { SelfServiceContext, SelfServiceRequest } from '../self-service.ts'
import { auditOwnChange, linkActor } from '../self-service-audit.ts'
import { sendPage } from '../views/page.ts'
import { checkedForm, csrfFor, fail, notFound, withinLimit } from './forms.ts'
import { linkValid, peekLink, signLink } from './links.ts'
import { doneWithLinkPage, lifetime, newPasswordPage, resetRequestPage, resetSentPage } from './views.ts'

const PURPOSE = 'password-reset'
const MAX_IDENTIFIER = 320
export const IP_FACTOR = 4

export async function handleReset(c: SelfServiceContext, r: SelfServiceRequest): Promise<void> {
  const settings = c.identity.password_reset
  if (!settings.enabled || c.mailer === null) return notFound(r)
  const confirm = r.path === '/password-reset/confirm'
  if (!confirm && r.path !== '/password-reset') return notFound(r)
  const method = r.req.method ?? 'GET'
  if (!['GET', 'HEAD', 'POST'].includes(method)) {
    r.res.setHeader('allow', 'GET, HEAD, POST')
    return fail(r, 405, 'Not allowed', 'This page cannot be used that way.')
  }
  const post = method === 'POST'
  if (!confirm) return post ? requestLink(c, r) : showRequest(c, r, 200)
  if (!post) {
    const token = r.query.get('token') ?? ''
    const user = await userOfLink(c, token)
    if (user === undefined) return linkExpired(r)
    return showNewPassword(c, r, 200, token, user)
  }
  return setNewPassword(c, r)
}

function showRequest(c: SelfServiceContext, r: SelfServiceRequest, status: number, error?: string): void {
  const page = resetRequestPage({ action: `${c.basePath}/password-reset`, csrf: csrfFor(c, r), error })
  sendPage(r.res, status, page.title, page.body)
}

function showNewPassword(
  c: SelfServiceContext,
  r: SelfServiceRequest,
  status: number,
  token: string,
  user: StoredUser,
  error?: string,
): void {
  const page = newPasswordPage({
    action: `${c.basePath}/password-reset/confirm`,
    csrf: csrfFor(c, r),
    token,
    username: user.username,
    error,
  })
  sendPage(r.res, status, page.title, page.body)
}

function linkExpired(r: SelfServiceRequest): void {
  fail(
    r,
    400,
    'Link expired',
    'This link has expired or was already used. Ask for a new one from the sign-in page ("Forgot password?").',
  )
}

async function requestLink(c: SelfServiceContext, r: SelfServiceRequest): Promise<void> {
  const form = await checkedForm(c, r)
  if (form === null) return
  const identifier = (form.get('identifier') ?? '').trim()
  if (identifier === '' || identifier.length > MAX_IDENTIFIER)
    return showRequest(c, r, 400, 'Enter your username or e-mail address.')
  const { link_ttl: ttl, max_requests: max } = c.identity.password_reset
  if (!(await withinLimit(c, `reset-ip:${r.clientIp}`, ttl, max * IP_FACTOR))) {
    c.logger.info({ reason: 'address_limited', ip: r.clientIp }, 'password reset request refused')
    return fail(
      r,
      429,
      'Too many requests',
      'Too many reset requests came from your network. Try again later.',
    )
  }
  const page = resetSentPage(ttl)
  sendPage(r.res, 200, page.title, page.body)
  // After the answer: nothing below changes it, or how long it took.
  setImmediate(() => {
    mailLink(c, identifier, r.clientIp).catch((err: unknown) =>
      c.logger.error({ err }, 'password reset request failed'),
    )
  })
}

async function mailLink(c: SelfServiceContext, identifier: string, ip: string): Promise<void> {
  const { link_ttl: ttl, max_requests: max } = c.identity.password_reset
  const user =
    (await c.store.users.findByUsername(identifier)) ??
    (identifier.includes('@') ? await c.store.users.findByEmail(identifier) : undefined)
  const reason =
    user === undefined
      ? 'unknown_user'
      : user.email === null
        ? 'no_email'
        : user.disabled
          ? 'user_disabled'
          : user.source === 'config' || declaredInFile(c.identity, user.username)
            ? 'managed_by_file'
            : !(await withinLimit(c, `reset-user:${user.id}`, ttl, max))
              ? 'account_limited'
              : null
  if (reason !== null || user === undefined || user.email === null) {
    c.logger.info({ reason, user_id: user?.id, ip }, 'password reset link not sent')
    return
  }
  const token = signLink(c.keys.links, PURPOSE, { u: user.id }, ttl, user.password_hash)
  c.mailer!.send({
    to: user.email,
    subject: 'Reset your password',
    text: `Someone (hopefully you) asked to reset the password of your account ${user.username}.\n\nOpen this link to set a new password:\n\n${c.issuer}/password-reset/confirm?token=${token}\n\nThe link works once, for ${lifetime(ttl)}. If you did not ask, ignore this message: your password stays as it is.\n`,
    kind: 'password_reset',
    userId: user.id,
  })
  c.logger.info({ user_id: user.id, ip }, 'password reset link sent')
}

/** The account a reset link is for, while the link is valid. */
async function userOfLink(c: SelfServiceContext, token: string): Promise<StoredUser | undefined> {
  const id = peekLink(token, PURPOSE)?.['u']
  const user = id !== undefined ? await c.store.users.get(id) : undefined
  if (
    user === undefined ||
    user.disabled ||
    user.source === 'config' ||
    declaredInFile(c.identity, user.username)
  )
    return undefined
  return linkValid(c.keys.links, token, PURPOSE, user.password_hash) ? user : undefined
}

async function setNewPassword(c: SelfServiceContext, r: SelfServiceRequest): Promise<void> {
  const form = await checkedForm(c, r)
  if (form === null) return
  const token = form.get('token') ?? ''
  const user = await userOfLink(c, token)
  if (user === undefined) {
    c.logger.info({ reason: 'link_invalid', ip: r.clientIp }, 'password reset refused')
    return linkExpired(r)
  }
  const password = form.get('new_password') ?? ''
  const problem = newPasswordProblem(password, form.get('confirm_password') ?? '', user)
  if (problem !== null) return showNewPassword(c, r, 400, token, user, problem)
  // The link is bound to the hash it was made for: the write succeeds only while that hash is still the
  // account's, so of two submissions of one link (two tabs, two nodes) exactly one sets a password.
  const hash = await hashPasswordAsync(password)
  if (!(await replacePasswordHash(c.store, user, hash))) {
    c.logger.info({ reason: 'link_used', user_id: user.id, ip: r.clientIp }, 'password reset refused')
    return linkExpired(r)
  }
  const actor = linkActor(r, 'password-reset')
  const target = userTarget(user)
  await auditOwnChange(c, actor, { action: 'user.password_changed', target, detail: {} })
  // The password is set: a revocation that cannot reach Redis must not turn that into an error page
  // (this node's store is cleared regardless; the other nodes' sessions lapse with their tokens).
  const reason = 'password reset by e-mail'
  const signedOut: AuditDetailOf<'user.signed_out'> = await signOutEverywhere(
    c.store,
    c.revocations,
    user.id,
    reason,
  ).then(
    (out) => ({
      sessions_ended: out.sessions,
      artefacts_deleted: out.artefacts,
      subject_revoked: out.revoked,
      reason,
    }),
    (err: unknown) => {
      c.logger.warn({ err, user_id: user.id }, 'password reset: subject revocation not recorded')
      return { sessions_ended: null, artefacts_deleted: null, subject_revoked: false, reason }
    },
  )
  await auditOwnChange(c, actor, { action: 'user.signed_out', target, detail: signedOut })
  if (await unlock(c.store, user.username))
    await auditOwnChange(c, actor, { action: 'user.unlocked', target, detail: {} })
  const page = doneWithLinkPage(
    'Password changed',
    'Your password was changed, and every session of your account was signed out. Sign in with the new password.',
    `${c.basePath}/account`,
  )
  sendPage(r.res, 200, page.title, page.body)
}
