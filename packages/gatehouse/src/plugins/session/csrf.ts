/**
 * Cross-site request forgery checks for requests that carry the session cookie (OWASP CSRF cheat sheet:
 * "Verifying origin with standard headers" and "Signed double-submit cookie"). Safe methods pass. An
 * unsafe one must show either an Origin of this site (or an allowed one; without Origin, the Referer's
 * origin), or the session's CSRF token in a header (or, for the plugin's own logout form, a form field).
 * The token is compared with the one sealed in the session, not with the readable cookie, so a cookie
 * planted from a sibling subdomain proves nothing.
 */
import { timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

export type CsrfCheck = 'origin-or-token' | 'origin' | 'token'

export interface CsrfSettings {
  readonly check: CsrfCheck
  readonly allowedOrigins: readonly string[]
  /** Lower-case. */
  readonly header: string
}

/** Why a request failed the check (a stable reason for the access log), or null when it passed. */
export type CsrfFailure = 'csrf_origin_mismatch' | 'csrf_token_mismatch' | 'csrf_no_proof'

export class CsrfGuard {
  readonly #s: CsrfSettings
  readonly #allowed: ReadonlySet<string>

  constructor(settings: CsrfSettings) {
    this.#s = settings
    this.#allowed = new Set(settings.allowedOrigins.map((o) => new URL(o).origin))
  }

  /** The header carrying the token, lower-case. */
  get header(): string {
    return this.#s.header
  }

  static isSafe(method: string): boolean {
    return SAFE_METHODS.has(method)
  }

  /**
   * `own` is the request's origin (origin.ts); null when it could not be told. `formToken`: the token a
   * form sent in its body, used when the header is absent (a form cannot set headers).
   */
  check(
    method: string,
    headers: IncomingHttpHeaders,
    own: string | null,
    sessionToken: string,
    formToken?: string,
  ): CsrfFailure | null {
    if (SAFE_METHODS.has(method)) return null
    const { check } = this.#s
    const token = check === 'origin' ? undefined : (headers[this.#s.header] ?? formToken)
    if (token !== undefined && sameToken(token, sessionToken)) return null
    if (check === 'token') return token === undefined ? 'csrf_no_proof' : 'csrf_token_mismatch'
    const origin = sourceOrigin(headers)
    if (origin !== null && (origin === own || this.#allowed.has(origin))) return null
    if (token !== undefined) return 'csrf_token_mismatch'
    return origin === null ? 'csrf_no_proof' : 'csrf_origin_mismatch'
  }

  /**
   * For an unsafe request without a session (no token to compare): refused only when the browser says it
   * came from elsewhere, by an Origin (or Referer) that is neither this site's nor allowed, or, when
   * neither names one (`Origin: null` from a no-referrer page), by Sec-Fetch-Site. A request that says
   * nothing (curl) passes: without a session there is nothing to forge.
   */
  crossSite(headers: IncomingHttpHeaders, own: string | null): CsrfFailure | null {
    const origin = sourceOrigin(headers)
    if (origin !== null) return origin === own || this.#allowed.has(origin) ? null : 'csrf_origin_mismatch'
    const site = headers['sec-fetch-site']
    return site === 'cross-site' || site === 'same-site' ? 'csrf_origin_mismatch' : null
  }
}

/** The Origin header, or the Referer's origin; null when neither says (or Origin is the opaque `null`). */
function sourceOrigin(headers: IncomingHttpHeaders): string | null {
  const origin = headers.origin
  if (origin !== undefined) return origin === 'null' ? null : (URL.parse(origin)?.origin ?? null)
  const referer = headers.referer
  return referer === undefined ? null : (URL.parse(referer)?.origin ?? null)
}

function sameToken(presented: string | string[], expected: string): boolean {
  if (Array.isArray(presented)) return false
  const a = Buffer.from(presented)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
