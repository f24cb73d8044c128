/**
 * The access token of a request: the `Authorization` header only, with the `Bearer` (RFC 6750 §2.1) or
 * `DPoP` (RFC 9449 §7.1) scheme. Not the query string (RFC 9700 §4.3.2: URLs leak through logs and
 * Referer) and not a form body. Schemes are case-insensitive (RFC 9110 §11.1). Another scheme, or no
 * header, means no token; one of ours followed by something that is not a b64token (token68) is a
 * malformed token. Node keeps only the first of repeated Authorization headers.
 */
import type { Scheme } from './answers.ts'

export interface Presented {
  readonly scheme: Scheme
  /** null when the value after the scheme is not a b64token. */
  readonly token: string | null
}

const SCHEME = /^(bearer|dpop)(?: +(.*))?$/i
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
/** The first six characters are the Bearer scheme, in any case. */
const BEARER_WORD = /^bearer/i

/** The scheme and token, or null when the request presents none. Surrounding spaces are ignored. */
export function presentedToken(authorization: string | undefined): Presented | null {
  if (authorization === undefined) return null
  // The usual `Bearer <token>` is read without SCHEME (which copies the token through a capture on every
  // request). Only a valid b64token is taken here, so nothing around it could be trimmed and SCHEME would
  // capture the same; anything else (other spacing, DPoP, a malformed token) takes the expression.
  if (authorization.length > 7 && authorization.charCodeAt(6) === 32 && BEARER_WORD.test(authorization)) {
    const token = authorization.slice(7)
    if (B64TOKEN.test(token)) return { scheme: 'bearer', token }
  }
  const match = SCHEME.exec(authorization.trim())
  if (match === null) return null
  const token = match[2]
  return {
    scheme: match[1]!.length === 4 ? 'dpop' : 'bearer',
    token: token !== undefined && B64TOKEN.test(token) ? token : null,
  }
}
