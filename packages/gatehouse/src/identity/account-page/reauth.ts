/**
 * The current password, asked again before a sensitive change (a new password, a new e-mail address).
 * Counted by the sign-in throttle (interactions/throttle.ts) under the same keys, so the account page is
 * no way around it: failures slow and then lock, a lock refuses without checking, success clears.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { parsePhc, verifyPassword } from '../../crypto/argon2id.ts'
import { scheduleCheck } from '../../crypto/password-checks.ts'
import type { StoredUser } from '../../storage/store.ts'
import { throttleKeys } from '../interactions/throttle.ts'
import type { SelfServiceContext } from '../self-service.ts'

export type Reauth = 'ok' | 'wrong' | 'locked' | 'busy'

const MAX_PASSWORD = 1024
const nowSeconds = () => Math.floor(Date.now() / 1000)

export async function checkCurrentPassword(
  c: SelfServiceContext,
  user: StoredUser,
  password: string,
  clientIp: string,
): Promise<Reauth> {
  const keys = throttleKeys(user.username, clientIp)
  const gate = await c.throttle.gate(keys, nowSeconds())
  if (gate.delayMs > 0) await sleep(gate.delayMs)
  if (gate.locked !== null) return 'locked'
  const hash = parsePhc(user.password_hash)
  let matched = false
  if (typeof hash !== 'string' && password !== '' && password.length <= MAX_PASSWORD) {
    const check = scheduleCheck(() => verifyPassword(hash, password))
    if (check === null) return 'busy'
    matched = await check
  }
  if (matched) {
    await c.throttle.success(keys)
    return 'ok'
  }
  const locked = await c.throttle.failure(keys, nowSeconds())
  c.logger.info(
    { user_id: user.id, reason: 'wrong_password', locked: locked ?? undefined, ip: clientIp },
    'account page password check failed',
  )
  return 'wrong'
}

export const REAUTH_PROBLEM: Readonly<Record<Exclude<Reauth, 'ok'>, string>> = {
  wrong: 'Your current password is not right.',
  locked: 'Too many wrong passwords. Try again later.',
  busy: 'Too many passwords are being checked right now. Try again in a moment.',
}
