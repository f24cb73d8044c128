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

/** The scheme and token, or null when the request presents none. Surrounding spaces are ignored. */
export function presentedToken(authorization: string | undefined): Presented | null {
  if (authorization === undefined) return null
  const match = SCHEME.exec(authorization.trim())
  if (match === null) return null
  const token = match[2]
  return {
    scheme: match[1]!.length === 4 ? 'dpop' : 'bearer',
    token: token !== undefined && B64TOKEN.test(token) ? token : null,
  }
}
