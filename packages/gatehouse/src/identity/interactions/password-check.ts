/**
 * The one password check behind every form that asks for a password: the sign-in form (login.ts), the
 * broker's link page (broker/resume.ts) and the account page's re-check (account-page/reauth.ts). A
 * guess costs the same and counts the same whichever form it comes through:
 * - an empty or over-long value is refused before anything else: it is no guess (nothing is checked,
 *   so nothing is learned), so it is neither throttled nor counted;
 * - an unknown account is throttled under the name typed and checked against a decoy hash, so neither
 *   the answer nor its timing tells whether an account exists; a stored hash that cannot be used is a
 *   wrong password (and a warning: the account cannot sign in with a password);
 * - the throttle's delay is slept first, and a lock refuses without a check (throttle.ts);
 * - checks run under the process-wide bounds of password-checks.ts; beyond them the verdict is 'busy'
 *   (503, try again), not counted, since no password was checked;
 * - every other refusal is logged at info with a stable reason, never the password, and counted against
 *   the account and the address, except one a lock refused: the lock would never end while someone
 *   keeps trying.
 * A match clears the account's count only where the password is the whole proof (a signed-in account
 * asked again). A sign-in's count is cleared once every factor it needs was proved (second-factor.ts):
 * a right password must not reset the count of wrong codes that follow it.
 */
import type { ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { decoyHash, parsePhc, verifyPassword } from '../../crypto/argon2id.ts'
import { scheduleCheck } from '../../crypto/password-checks.ts'
import { NO_PASSWORD, type StoredUser } from '../../storage/store.ts'
import { errorPage } from '../views/messages.ts'
import { sendPage } from '../views/page.ts'
import type { InteractionContext } from './context.ts'
import { throttleKeys } from './throttle.ts'

/** The one answer to every refusal of a form that names the account, so none tells them apart. */
export const INVALID_CREDENTIALS = 'Invalid username or password.'
/** The answer to a form refused for its bounds (400). */
export const MISSING_CREDENTIALS = 'Enter your username or e-mail and your password.'
export const MAX_IDENTIFIER = 320
export const MAX_PASSWORD = 1024
const decoy = decoyHash()

/** Why a password was refused; every reason but 'bounds' and 'busy' is logged as the `reason` field. */
export type PasswordRefusal =
  | 'bounds'
  | 'busy'
  | 'unknown_user'
  | 'wrong_password'
  | 'user_disabled'
  | 'account_locked'
  | 'address_locked'

export type PasswordVerdict =
  | { readonly ok: true; readonly user: StoredUser }
  | { readonly ok: false; readonly reason: PasswordRefusal }

export interface PasswordAttempt {
  /**
   * `identifier`: a sign-in form's username or e-mail address (trimmed), looked up by username, then
   * by e-mail. `user`: a signed-in account asked again, where the password is the whole proof.
   */
  readonly account: { readonly identifier: string } | { readonly user: StoredUser }
  readonly password: string
  /** The client's address: the throttle's second key, and logged. */
  readonly clientIp: string
  /** What a refusal is logged as: the form's own message, and its own fields (`client_id`, `broker`). */
  readonly audit: { readonly message: string; readonly fields?: Readonly<Record<string, unknown>> }
}

export type PasswordCheckContext = Pick<InteractionContext, 'store' | 'logger' | 'throttle'>

export async function checkPassword(
  c: PasswordCheckContext,
  attempt: PasswordAttempt,
): Promise<PasswordVerdict> {
  const { account, password, clientIp } = attempt
  if (
    password === '' ||
    password.length > MAX_PASSWORD ||
    ('identifier' in account && (account.identifier === '' || account.identifier.length > MAX_IDENTIFIER))
  )
    return { ok: false, reason: 'bounds' }
  const { user, name } = await named(c, account)
  // An account made by an external sign-in has no password (NO_PASSWORD): a wrong one, not a problem.
  if (
    user !== undefined &&
    user.password_hash !== NO_PASSWORD &&
    typeof parsePhc(user.password_hash) === 'string'
  )
    c.logger.warn({ user_id: user.id, reason: 'password_hash_invalid' }, 'stored password hash unusable')
  const keys = throttleKeys(name, clientIp)
  const gate = await c.throttle.gate(keys, nowSeconds())
  if (gate.delayMs > 0) await sleep(gate.delayMs)

  let reason: Exclude<PasswordRefusal, 'bounds' | 'busy'>
  if (gate.locked !== null) {
    reason = gate.locked === 'account' ? 'account_locked' : 'address_locked'
  } else {
    const matched = await matches(user, password)
    if (matched === 'busy') return { ok: false, reason: 'busy' }
    if (matched && user !== undefined && !user.disabled) {
      if ('user' in account) await c.throttle.success(keys)
      return { ok: true, user }
    }
    reason = user === undefined ? 'unknown_user' : !matched ? 'wrong_password' : 'user_disabled'
  }
  const locked = gate.locked === null ? await c.throttle.failure(keys, nowSeconds()) : null
  c.logger.info(
    { ...attempt.audit.fields, reason, user_id: user?.id, ip: clientIp, locked: locked ?? undefined },
    attempt.audit.message,
  )
  return { ok: false, reason }
}

/** The answer to a 'busy' verdict: a page saying to submit again shortly (503). */
export function sendBusy(res: ServerResponse): void {
  const page = errorPage(
    'Try again shortly',
    'Too many sign-ins are being checked right now. Wait a moment and submit the form again.',
  )
  sendPage(res, 503, page.title, page.body)
}

const nowSeconds = () => Math.floor(Date.now() / 1000)

/** The account a form names, and the name it is throttled under (the name typed, for an unknown one). */
async function named(
  c: PasswordCheckContext,
  account: PasswordAttempt['account'],
): Promise<{ user: StoredUser | undefined; name: string }> {
  if ('user' in account) return { user: account.user, name: account.user.username }
  const user = await findUser(c, account.identifier)
  return { user, name: user?.username ?? account.identifier }
}

async function findUser(c: PasswordCheckContext, identifier: string): Promise<StoredUser | undefined> {
  return (
    (await c.store.users.findByUsername(identifier)) ??
    (identifier.includes('@') ? await c.store.users.findByEmail(identifier) : undefined)
  )
}

/** Whether the password matches (a decoy check for an unknown user or an unusable hash), or 'busy'. */
async function matches(user: StoredUser | undefined, password: string): Promise<boolean | 'busy'> {
  const parsed = user !== undefined ? parsePhc(user.password_hash) : decoy
  const hash = typeof parsed === 'string' ? decoy : parsed
  const check = scheduleCheck(() => verifyPassword(hash, password))
  if (check === null) return 'busy'
  const matched = await check
  return matched && user !== undefined && typeof parsed !== 'string'
}
