/**
 * Reading Kong's hmac credentials from an Authorization or Proxy-Authorization value:
 * `hmac username="…", algorithm="…", headers="…", signature="…"`. Stricter than Kong's unanchored
 * regex: the value must start with the scheme (case-insensitive, RFC 9110 §11.1), and be a comma-separated
 * list of quoted parameters, each named once; the four are required, in any order. `headers` is split on
 * single spaces as Kong splits it, and an empty name in it (two spaces) makes the whole value malformed.
 * Anything else holds no credentials (Kong's "HMAC signature cannot be verified").
 */

export interface HmacCredentials {
  readonly username: string
  readonly algorithm: string
  /** The names signed, in order, as the client wrote them. */
  readonly headers: readonly string[]
  /** Still base64: decoded when compared. */
  readonly signature: string
}

const SCHEME = /^[ \t]*hmac[ \t]+/iy
const PARAM = /[ \t]*([A-Za-z][A-Za-z_-]*)[ \t]*=[ \t]*"([^"]*)"[ \t]*(,|$)/y
const REQUIRED = ['username', 'algorithm', 'headers', 'signature'] as const

export function parseHmac(value: string | undefined): HmacCredentials | null {
  if (value === undefined) return null
  SCHEME.lastIndex = 0
  if (!SCHEME.test(value)) return null
  const params = new Map<string, string>()
  PARAM.lastIndex = SCHEME.lastIndex
  for (;;) {
    const m = PARAM.exec(value)
    if (m === null) return null
    const name = m[1]!.toLowerCase()
    if (params.has(name)) return null
    params.set(name, m[2]!)
    if (m[3] === '') break
  }
  if (PARAM.lastIndex !== value.length) return null
  for (const name of REQUIRED) if (!params.get(name)) return null
  const headers = params.get('headers')!.split(' ')
  if (headers.includes('')) return null
  return {
    username: params.get('username')!,
    algorithm: params.get('algorithm')!,
    headers,
    signature: params.get('signature')!,
  }
}
