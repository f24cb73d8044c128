/**
 * Self-registration (issue 14), when identity.registration.enabled:
 *
 *   GET  /register                 the form: e-mail, username, password
 *   POST /register                 mails a link; the account does not exist yet
 *   GET  /register/verify?token=   "create the account?" (a GET never creates: mail scanners open links)
 *   POST /register/verify          creates it, enabled, e-mail verified, source `cli` (managed outside
 *                                  the file, like accounts the admin adds)
 *
 * Nothing is stored before the link is used: the link is sealed (links.ts) and carries the username,
 * the address and the argon2id hash. It works once because the username is then taken. What the form
 * says: a taken username ("not available": it must say so, the person has to pick another). What it
 * never says: whether the address has an account. A taken address gets the same answer, and its owner
 * gets a mail saying someone tried to register it (with the reset page, when reset is on). The lookup,
 * the hash and the mail happen after the answer.
 */
import { z } from 'zod'
import { identityUser } from '../../config/schema/identity.ts'
import { hashPasswordAsync } from '../../crypto/argon2id.ts'
import { newPasswordProblem } from '../account-page/password.ts'
import { userTarget } from '../manage/audit.ts'
import { IdentityChangeRefused } from '../manage/refusal.ts'
import { createUser, declaredInFile } from '../manage/users.ts'
import type { SelfServiceContext, SelfServiceRequest } from '../self-service.ts'
import { auditOwnChange, linkActor } from '../self-service-audit.ts'
import { sendPage } from '../views/page.ts'
import { checkedForm, csrfFor, fail, notFound, withinLimit } from './forms.ts'
import { openLink, sealLink } from './links.ts'
import { activatePage, doneWithLinkPage, lifetime, registerPage, registerSentPage } from './views.ts'

const PURPOSE = 'register'
const email = z.email()
/** Registrations per client address per hour. */
export const MAX_PER_ADDRESS = 10

export async function handleRegister(c: SelfServiceContext, r: SelfServiceRequest): Promise<void> {
  if (!c.identity.registration.enabled || c.mailer === null) return notFound(r)
  const verify = r.path === '/register/verify'
  if (!verify && r.path !== '/register') return notFound(r)
  const method = r.req.method ?? 'GET'
  if (!['GET', 'HEAD', 'POST'].includes(method)) {
    r.res.setHeader('allow', 'GET, HEAD, POST')
    return fail(r, 405, 'Not allowed', 'This page cannot be used that way.')
  }
  const post = method === 'POST'
  if (!verify) return post ? submit(c, r) : showForm(c, r, 200, {})
  if (!post) {
    const token = r.query.get('token') ?? ''
    const fields = openLink(c.keys.sealing, token, PURPOSE)
    if (fields === null) return linkExpired(r)
    const page = activatePage({
      action: `${c.basePath}/register/verify`,
      csrf: csrfFor(c, r),
      token,
      username: fields['username']!,
    })
    return sendPage(r.res, 200, page.title, page.body)
  }
  return activate(c, r)
}

function showForm(
  c: SelfServiceContext,
  r: SelfServiceRequest,
  status: number,
  values: { email?: string; username?: string },
  error?: string,
): void {
  const page = registerPage({ action: `${c.basePath}/register`, csrf: csrfFor(c, r), values, error })
  sendPage(r.res, status, page.title, page.body)
}

function linkExpired(r: SelfServiceRequest): void {
  fail(r, 400, 'Link expired', 'This link has expired or was already used. Register again.')
}

async function submit(c: SelfServiceContext, r: SelfServiceRequest): Promise<void> {
  const form = await checkedForm(c, r)
  if (form === null) return
  const address = (form.get('email') ?? '').trim()
  const username = (form.get('username') ?? '').trim()
  const password = form.get('password') ?? ''
  const values = { email: address.slice(0, 320), username: username.slice(0, 64) }
  if (address.length > 320 || !email.safeParse(address).success)
    return showForm(c, r, 400, values, 'Enter an e-mail address such as name@example.com.')
  if (!identityUser.shape.username.safeParse(username).success)
    return showForm(c, r, 400, values, 'Choose a username of 1-64 letters, digits and . _ @ + -')
  const problem = newPasswordProblem(password, form.get('confirm_password') ?? '', {
    username,
    email: address,
  })
  if (problem !== null) return showForm(c, r, 400, values, problem)
  if (!(await withinLimit(c, `register-ip:${r.clientIp}`, 3600, MAX_PER_ADDRESS))) {
    c.logger.info({ reason: 'address_limited', ip: r.clientIp }, 'registration refused')
    return fail(
      r,
      429,
      'Too many requests',
      'Too many accounts were requested from your network. Try again later.',
    )
  }
  if (declaredInFile(c.identity, username) || (await c.store.users.findByUsername(username)) !== undefined)
    return showForm(c, r, 200, values, 'That username is not available. Choose another.')
  const ttl = c.identity.registration.link_ttl
  const page = registerSentPage(ttl)
  sendPage(r.res, 200, page.title, page.body)
  setImmediate(() => {
    mailLink(c, address, username, password, r.clientIp).catch((err: unknown) =>
      c.logger.error({ err }, 'registration failed'),
    )
  })
}

async function mailLink(
  c: SelfServiceContext,
  address: string,
  username: string,
  password: string,
  ip: string,
): Promise<void> {
  const owner = await c.store.users.findByEmail(address)
  if (owner !== undefined) {
    c.logger.info({ reason: 'email_taken', user_id: owner.id, ip }, 'registration link not sent')
    const reset = c.identity.password_reset.enabled
      ? `\n\nIf you forgot your password, you can set a new one here:\n\n${c.issuer}/password-reset\n`
      : '\n'
    c.mailer!.send({
      to: address,
      subject: 'You already have an account',
      text: `Someone (hopefully you) tried to create an account with this e-mail address, but it already has one: ${owner.username}.${reset}\nIf it was not you, ignore this message.\n`,
      kind: 'registration_existing',
      userId: owner.id,
    })
    return
  }
  const ttl = c.identity.registration.link_ttl
  const hash = await hashPasswordAsync(password)
  const token = sealLink(c.keys.sealing, PURPOSE, { username, email: address, hash }, ttl)
  c.mailer!.send({
    to: address,
    subject: 'Create your account',
    text: `Open this link to create your account ${username}:\n\n${c.issuer}/register/verify?token=${token}\n\nThe link works for ${lifetime(ttl)}. If you did not ask for an account, ignore this message: nothing is created.\n`,
    kind: 'registration',
  })
  c.logger.info({ ip }, 'registration link sent')
}

async function activate(c: SelfServiceContext, r: SelfServiceRequest): Promise<void> {
  const form = await checkedForm(c, r)
  if (form === null) return
  const fields = openLink(c.keys.sealing, form.get('token') ?? '', PURPOSE)
  if (fields === null) return linkExpired(r)
  try {
    const user = await createUser(
      c.store,
      c.identity,
      {
        username: fields['username']!,
        email: fields['email']!,
        roles: [...c.identity.registration.roles],
        claims: { email_verified: true },
        disabled: false,
      },
      fields['hash']!,
    )
    await auditOwnChange(c, linkActor(r, 'registration'), {
      action: 'user.added',
      target: userTarget(user),
      detail: { roles: user.roles.join(','), disabled: user.disabled },
    })
  } catch (err) {
    if (!(err instanceof IdentityChangeRefused)) throw err
    c.logger.info({ reason: `registration_${err.kind}`, ip: r.clientIp }, 'registration refused')
    return linkExpired(r)
  }
  const page = doneWithLinkPage('Account created', 'Your account is ready.', `${c.basePath}/account`)
  sendPage(r.res, 200, page.title, page.body)
}
