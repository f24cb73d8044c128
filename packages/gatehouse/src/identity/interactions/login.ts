/**
 * The sign-in form's submission. Every failure (unknown user, wrong password, disabled user, locked
 * account or address) gets the same answer, "Invalid username or password", and costs the same: an
 * unknown user is checked against a decoy hash, so timing tells nothing either. Checks run under the
 * process-wide bounds of password-checks.ts (beyond them: 503, try again). Failures are logged at info
 * with a stable reason and never the password; throttle.ts slows and then locks repeated failures.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Interaction } from 'oidc-provider'
import { decoyHash, parsePhc, verifyPassword } from '../../crypto/argon2id.ts'
import { scheduleCheck } from '../../crypto/password-checks.ts'
import { NO_PASSWORD, type StoredUser } from '../../storage/store.ts'
import { errorPage } from '../views/messages.ts'
import { sendPage } from '../views/page.ts'
import type { InteractionContext, InteractionRequest } from './context.ts'
import { showLogin } from './pages.ts'
import { continueSignIn, PASSWORD } from './second-factor.ts'
import { throttleKeys } from './throttle.ts'

export const INVALID_CREDENTIALS = 'Invalid username or password.'
const MAX_IDENTIFIER = 320
const MAX_PASSWORD = 1024
const decoy = decoyHash()

type Reason = 'unknown_user' | 'wrong_password' | 'user_disabled' | 'account_locked' | 'address_locked'

export async function submitLogin(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  form: URLSearchParams,
): Promise<void> {
  const identifier = (form.get('username') ?? '').trim()
  const password = form.get('password') ?? ''
  if (
    identifier === '' ||
    password === '' ||
    identifier.length > MAX_IDENTIFIER ||
    password.length > MAX_PASSWORD
  ) {
    await showLogin(c, r, interaction, 400, {
      username: identifier.slice(0, MAX_IDENTIFIER),
      error: 'Enter your username or e-mail and your password.',
    })
    return
  }
  const user = await findUser(c, identifier)
  // An account made by an external sign-in has no password (NO_PASSWORD): a wrong one, not a problem.
  if (
    user !== undefined &&
    user.password_hash !== NO_PASSWORD &&
    typeof parsePhc(user.password_hash) === 'string'
  )
    c.logger.warn({ user_id: user.id, reason: 'password_hash_invalid' }, 'stored password hash unusable')
  const keys = throttleKeys(user?.username ?? identifier, r.clientIp)
  const now = () => Math.floor(Date.now() / 1000)
  const gate = await c.throttle.gate(keys, now())
  if (gate.delayMs > 0) await sleep(gate.delayMs)

  let reason: Reason | null
  if (gate.locked !== null) {
    reason = gate.locked === 'account' ? 'account_locked' : 'address_locked'
  } else {
    const matched = await checkPassword(user, password)
    if (matched === 'busy') {
      const page = errorPage(
        'Try again shortly',
        'Too many sign-ins are being checked right now. Wait a moment and submit the form again.',
      )
      sendPage(r.res, 503, page.title, page.body)
      return
    }
    reason =
      user === undefined
        ? 'unknown_user'
        : !matched
          ? 'wrong_password'
          : user.disabled
            ? 'user_disabled'
            : null
  }

  const log = {
    reason: reason ?? undefined,
    user_id: user?.id,
    client_id: interaction.params['client_id'],
    ip: r.clientIp,
  }
  if (reason === null && user !== undefined) {
    // The account's failure count is cleared once the whole sign-in succeeds (second-factor.ts): a
    // right password must not reset the count of wrong codes that follow it.
    c.logger.info(log, 'password accepted')
    await continueSignIn(c, r, interaction, user, PASSWORD)
    return
  }
  // A locked login is not counted again: the lock would never end while someone keeps trying.
  const locked = gate.locked === null ? await c.throttle.failure(keys, now()) : null
  c.logger.info({ ...log, locked: locked ?? undefined }, 'login failed')
  // 200, not 401: a 401 must carry a WWW-Authenticate challenge (RFC 9110 §15.5.2), and a form has none.
  await showLogin(c, r, interaction, 200, { username: identifier, error: INVALID_CREDENTIALS })
}

async function findUser(c: InteractionContext, identifier: string): Promise<StoredUser | undefined> {
  return (
    (await c.store.users.findByUsername(identifier)) ??
    (identifier.includes('@') ? await c.store.users.findByEmail(identifier) : undefined)
  )
}

/** Whether the password matches (a decoy check for an unknown user), or 'busy' when no check could start. */
async function checkPassword(user: StoredUser | undefined, password: string): Promise<boolean | 'busy'> {
  const parsed = user !== undefined ? parsePhc(user.password_hash) : decoy
  const hash = typeof parsed === 'string' ? decoy : parsed
  const check = scheduleCheck(() => verifyPassword(hash, password))
  if (check === null) return 'busy'
  const matched = await check
  return matched && user !== undefined && typeof parsed !== 'string'
}
