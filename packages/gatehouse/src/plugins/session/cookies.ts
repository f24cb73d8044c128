/**
 * Reading the plugin's cookies from a request and writing them (RFC 6265). Values are base64url JWEs,
 * random ids or CSRF tokens, so they need no quoting or escaping; a value with other characters is not
 * one of ours and is read as absent.
 */
import type { HeaderMap } from '../../pipeline/request-state.ts'

const VALUE = /^[A-Za-z0-9._-]+$/

/** The value of the first cookie named `name` in a Cookie header, or null. */
export function readCookie(header: string | string[] | undefined, name: string): string | null {
  if (header === undefined) return null
  const text = Array.isArray(header) ? header.join('; ') : header
  let at = 0
  while (at < text.length) {
    const end = text.indexOf(';', at)
    const pair = text.slice(at, end === -1 ? text.length : end)
    at = end === -1 ? text.length : end + 1
    const eq = pair.indexOf('=')
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue
    const value = pair.slice(eq + 1).trim()
    return VALUE.test(value) ? value : null
  }
  return null
}

export interface CookieAttributes {
  readonly path: string
  readonly httpOnly: boolean
  readonly secure: boolean
  readonly sameSite: 'Strict' | 'Lax' | 'None'
  /** Seconds; null for a cookie that ends with the browser session. */
  readonly maxAge: number | null
}

/** A Set-Cookie value. */
export function serializeCookie(name: string, value: string, a: CookieAttributes): string {
  let line = `${name}=${value}; Path=${a.path}`
  if (a.maxAge !== null) line += `; Max-Age=${Math.max(0, Math.floor(a.maxAge))}`
  if (a.httpOnly) line += '; HttpOnly'
  if (a.secure) line += '; Secure'
  return `${line}; SameSite=${a.sameSite}`
}

/** A Set-Cookie value that removes the cookie (same name and path, expired). */
export function clearCookie(name: string, a: CookieAttributes): string {
  return `${serializeCookie(name, '', { ...a, maxAge: 0 })}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`
}

/** Adds Set-Cookie lines to a header map, keeping any already there (the upstream's own cookies). */
export function appendSetCookie(headers: HeaderMap, lines: readonly string[]): void {
  if (lines.length === 0) return
  const current = headers['set-cookie']
  headers['set-cookie'] =
    current === undefined ? [...lines] : [...(Array.isArray(current) ? current : [current]), ...lines]
}

/**
 * The Set-Cookie lines minus those that set a cookie named in `names`. An upstream that could set the
 * session plugin's own cookies could sign the browser into another session (its own: login CSRF) or end
 * the user's; those cookies are the gateway's alone, as a client's copies of them never reach upstream.
 */
export function withoutSetCookies(value: string | readonly string[], names: readonly string[]): string[] {
  const lines = typeof value === 'string' ? [value] : value
  return lines.filter((line) => {
    const eq = line.indexOf('=')
    return !names.includes((eq === -1 ? line.slice(0, line.indexOf(';')) : line.slice(0, eq)).trim())
  })
}
