/**
 * Reading `Basic` credentials (RFC 7617) from an Authorization or Proxy-Authorization value. Stricter
 * than Kong's unanchored `\s*[Bb]asic\s*(.+)` match: the value must be exactly the scheme
 * (case-insensitive, RFC 9110 §11.1), whitespace and one base64 token decoding to UTF-8
 * `user-id ":" password`, with a non-empty user-id. Anything else holds no credentials.
 */

export interface BasicCredentials {
  readonly username: string
  readonly password: string
}

const BASIC = /^[ \t]*basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i
const utf8 = new TextDecoder('utf-8', { fatal: true })

export function parseBasic(value: string | undefined): BasicCredentials | null {
  if (value === undefined) return null
  const token = BASIC.exec(value)?.[1]
  if (token === undefined || token.replace(/=+$/, '').length % 4 === 1) return null
  let decoded: string
  try {
    decoded = utf8.decode(Buffer.from(token, 'base64'))
  } catch {
    return null
  }
  const colon = decoded.indexOf(':')
  if (colon <= 0) return null
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}
