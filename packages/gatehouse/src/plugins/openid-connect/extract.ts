/**
 * The bearer token of a request: the `Authorization: Bearer <b64token>` header only (RFC 6750 §2.1). Not
 * the query string (RFC 9700 §4.3.2: URLs leak through logs and Referer) and not a form body. The scheme
 * is case-insensitive (RFC 9110 §11.1). Another scheme, or no header, means no bearer token; `Bearer`
 * followed by something that is not a b64token is a malformed token. Node keeps only the first of
 * repeated Authorization headers.
 */

/** `Bearer` with a value that is not a b64token (RFC 6750 §2.1). */
export const MALFORMED = 1

const BEARER = /^bearer(?: +(.*))?$/i
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** The token, null when the request has none, or MALFORMED. Leading and trailing spaces are ignored. */
export function bearerToken(authorization: string | undefined): string | null | typeof MALFORMED {
  if (authorization === undefined) return null
  const match = BEARER.exec(authorization.trim())
  if (match === null) return null
  const token = match[1]
  return token !== undefined && B64TOKEN.test(token) ? token : MALFORMED
}
