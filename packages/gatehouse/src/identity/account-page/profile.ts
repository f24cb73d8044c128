/**
 * The profile a person may edit: their name (the `name` claim) and their e-mail address. A new address
 * needs the current password (it is where reset links go) and is unverified (`email_verified` false)
 * until the link mailed to it is used, when mail is configured. Audited with the names of the fields
 * that changed, never their values (manage/audit.ts says why); saving without a change records nothing.
 */
import { z } from 'zod'
import { StoreConflictError } from '../../storage/store.ts'
import { sendVerification } from '../recovery/verify-email.ts'
import { auditAccountChange } from '../self-service-audit.ts'
import { checkCurrentPassword, REAUTH_PROBLEM } from './reauth.ts'
import type { AccountAction, ActionOutcome } from './sections.ts'

const email = z.email()
const MAX_NAME = 200

export const updateProfile: AccountAction = async (c, r, who, form): Promise<ActionOutcome> => {
  const user = who.user
  const name = (form.get('name') ?? '').trim()
  const address = (form.get('email') ?? '').trim()
  const values = { name, email: address }
  if (name.length > MAX_NAME || /\p{Cc}/u.test(name))
    return { problem: `Your name must be at most ${MAX_NAME} characters.`, status: 400, values }
  const changedEmail = address.toLowerCase() !== (user.email ?? '').toLowerCase()
  const changedName = name !== String(user.claims['name'] ?? '')
  if (changedEmail) {
    if (address === '' || address.length > 320 || !email.safeParse(address).success)
      return { problem: 'Enter an e-mail address such as name@example.com.', status: 400, values }
    const check = await checkCurrentPassword(c, user, form.get('current_password') ?? '', r.clientIp)
    if (check !== 'ok')
      return { problem: REAUTH_PROBLEM[check], status: check === 'wrong' ? 200 : 429, values }
  }
  const claims: Record<string, string | number | boolean> = { ...user.claims }
  if (name === '') delete claims['name']
  else claims['name'] = name
  if (changedEmail) claims['email_verified'] = false
  try {
    await c.store.users.update(user.id, {
      claims,
      ...(changedEmail && { email: address }),
      updated_at: Math.floor(Date.now() / 1000),
    })
  } catch (err) {
    // Taken by another account: said as plainly as the admin would be told, since the owner of an
    // address can learn it has an account anyway (by asking for a reset).
    if (err instanceof StoreConflictError)
      return { problem: 'That e-mail address cannot be used. Enter another.', status: 200, values }
    throw err
  }
  // Applications holding cached user-info learn it changed (every node).
  await c.revocations
    ?.revoke({ kind: 'profile', id: user.id, reason: 'profile changed by its owner' })
    .catch((err: unknown) =>
      c.logger.warn({ err, user_id: user.id }, 'cached profiles could not be marked stale on every node'),
    )
  const fields = [changedName && 'name', changedEmail && 'email'].filter(Boolean).join(',')
  if (fields !== '') await auditAccountChange(c, r, who, 'user.profile_changed', { fields })
  if (changedEmail && c.mailer !== null) {
    sendVerification(c, { ...user, email: address })
    return { done: 'profile-verify' }
  }
  return { done: 'profile' }
}
