/**
 * A person changes their own password: the current one first (throttled like sign-in), the new one
 * under the policy admin-set passwords follow (manage/users.ts), hashed with argon2id off the event
 * loop. Every other session of the account ends, and the grants they held are revoked on every node;
 * this browser stays signed in. Audited, never with a password.
 */
import { hashPasswordAsync } from '../../crypto/argon2id.ts'
import { signOutOthers } from '../manage/sessions.ts'
import { passwordProblem, setPasswordHash } from '../manage/users.ts'
import { auditAccountChange } from '../self-service-audit.ts'
import { checkCurrentPassword, REAUTH_PROBLEM } from './reauth.ts'
import type { AccountAction, ActionOutcome } from './sections.ts'

export const MAX_PASSWORD = 1024

/** The policy's verdict on a new password as a sentence for the page, or null when it is fine. */
export function newPasswordProblem(
  password: string,
  confirm: string,
  account: { readonly username: string; readonly email: string | null },
): string | null {
  if (password.length > MAX_PASSWORD) return `The new password must be at most ${MAX_PASSWORD} characters.`
  if (password !== confirm) return 'The two new passwords are not the same.'
  const problem = passwordProblem(password, account)
  if (problem === null) return null
  // "refused: it has fewer than 12 characters" → "That password cannot be used: it has fewer than 12 characters."
  return `That password cannot be used: ${problem.message.replace(/^refused: /, '')}.`
}

export const changePassword: AccountAction = async (c, r, who, form): Promise<ActionOutcome> => {
  const user = who.user
  const next = form.get('new_password') ?? ''
  const problem = newPasswordProblem(next, form.get('confirm_password') ?? '', user)
  const check = await checkCurrentPassword(c, user, form.get('current_password') ?? '', r.clientIp)
  if (check !== 'ok') return { problem: REAUTH_PROBLEM[check], status: check === 'wrong' ? 200 : 429 }
  if (problem !== null) return { problem, status: 400 }
  await setPasswordHash(c.store, user, await hashPasswordAsync(next))
  await auditAccountChange(c, r, who, 'user.password_changed', {})
  const reason = 'password changed by its owner'
  const ended = await signOutOthers(c.store, c.revocations, user.id, who.sessionId, reason)
  // Its own event: an administrator's password change ends no session, so the two facts are two events.
  if (ended > 0)
    await auditAccountChange(c, r, who, 'user.session_ended', {
      session: null,
      sessions_ended: ended,
      reason,
    })
  return { done: 'password' }
}
