/**
 * The current password, asked again before a sensitive change (a new password, a new e-mail address).
 * The sign-in form's own check (interactions/password-check.ts), under the same throttle keys, so the
 * account page is no way around it: failures slow and then lock, a lock refuses without checking,
 * success clears.
 */
import type { StoredUser } from '../../storage/store.ts'
import { checkPassword } from '../interactions/password-check.ts'
import type { SelfServiceContext } from '../self-service.ts'

export type Reauth = 'ok' | 'wrong' | 'locked' | 'busy'

export async function checkCurrentPassword(
  c: SelfServiceContext,
  user: StoredUser,
  password: string,
  clientIp: string,
): Promise<Reauth> {
  const verdict = await checkPassword(c, {
    account: { user },
    password,
    clientIp,
    audit: { message: 'account page password check failed' },
  })
  if (verdict.ok) return 'ok'
  if (verdict.reason === 'busy') return 'busy'
  // The person is signed in: saying the account is locked tells them nothing they may not know.
  if (verdict.reason === 'account_locked' || verdict.reason === 'address_locked') return 'locked'
  return 'wrong'
}

export const REAUTH_PROBLEM: Readonly<Record<Exclude<Reauth, 'ok'>, string>> = {
  wrong: 'Your current password is not right.',
  locked: 'Too many wrong passwords. Try again later.',
  busy: 'Too many passwords are being checked right now. Try again in a moment.',
}
