/**
 * CSRF tokens of the interaction forms: HMAC-SHA256 (key from identity.secret) of the interaction's
 * uid and its `cid`, a random value oidc-provider keeps server-side in the interaction and never sends
 * to the browser. A token therefore only fits the one interaction it was rendered for, cannot be
 * computed by anyone without the secret, and needs no cookie of its own. The interaction cookie
 * (oidc-provider's `_interaction`, scoped to this interaction's path) must accompany it as well.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface CsrfSubject {
  readonly uid: string
  readonly cid?: string | undefined
}

export function csrfToken(key: Buffer, subject: CsrfSubject): string {
  return createHmac('sha256', key)
    .update(`${subject.uid}\0${subject.cid ?? ''}`)
    .digest('base64url')
}

/** Constant-time comparison; a missing or malformed token is simply not valid. */
export function csrfValid(key: Buffer, subject: CsrfSubject, presented: string | null): boolean {
  if (presented === null) return false
  const expected = Buffer.from(csrfToken(key, subject))
  const actual = Buffer.from(presented)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
