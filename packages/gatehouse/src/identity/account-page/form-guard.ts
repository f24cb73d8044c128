/**
 * CSRF tokens of the self-service forms. On the account page a token is an HMAC of the provider
 * session's id (the session cookie's value, which never appears in a page), so it fits that session
 * only. The signed-out pages (reset, registration) have no session: they set a random HttpOnly,
 * SameSite=Strict cookie and the token is an HMAC of it (a signed double-submit cookie, OWASP).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

export const FORM_COOKIE = 'gh_form'

export function formToken(key: Buffer, purpose: string, bound: string): string {
  return createHmac('sha256', key).update(`${purpose}\0${bound}`).digest('base64url')
}

export function formTokenValid(
  key: Buffer,
  purpose: string,
  bound: string,
  presented: string | null,
): boolean {
  if (presented === null || bound === '') return false
  const expected = Buffer.from(formToken(key, purpose, bound))
  const actual = Buffer.from(presented)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** The value of cookie `name`, or null. */
export function readCookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return null
}

export interface CookieOptions {
  readonly path: string
  readonly secure: boolean
  readonly sameSite: 'Strict' | 'Lax'
  /** Seconds; absent: a session cookie. 0 deletes it. */
  readonly maxAge?: number
}

export function setCookie(res: ServerResponse, name: string, value: string, o: CookieOptions): void {
  const parts = [`${name}=${value}`, `Path=${o.path}`, 'HttpOnly', `SameSite=${o.sameSite}`]
  if (o.secure) parts.push('Secure')
  if (o.maxAge !== undefined) parts.push(`Max-Age=${o.maxAge}`)
  const existing = res.getHeader('set-cookie')
  const list = Array.isArray(existing) ? existing : typeof existing === 'string' ? [existing] : []
  res.setHeader('set-cookie', [...list, parts.join('; ')])
}

/** The signed-out pages' form cookie: the one the browser has, or a new one set on this answer. */
export function formCookie(req: IncomingMessage, res: ServerResponse, path: string, secure: boolean): string {
  const have = readCookie(req, FORM_COOKIE)
  if (have !== null && /^[A-Za-z0-9_-]{43}$/.test(have)) return have
  const value = randomBytes(32).toString('base64url')
  setCookie(res, FORM_COOKIE, value, { path, secure, sameSite: 'Strict' })
  return value
}
