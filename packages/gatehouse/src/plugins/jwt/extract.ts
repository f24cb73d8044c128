/**
 * Finds the token in a request as Kong's jwt handler does (gateways.md b.3): every value of the
 * configured query parameters, then the first non-empty value of each configured cookie, then the first
 * occurrence of each configured header as `Bearer <token>`. The values form a set, so the same token in
 * two places counts once. Unlike Kong, the scheme must start the header value: Kong's unanchored
 * pattern also finds "Bearer x" in the middle of another scheme's value.
 */
import type { IncomingMessage } from 'node:http'

/** No token anywhere (Kong: nil). */
export const NO_TOKEN = 0
/** Two or more different values (Kong: a table). */
export const MULTIPLE_TOKENS = 1
/** A query parameter without a value, `?jwt` (Kong: the boolean true). */
export const NOT_A_STRING = 2

export type Extraction = string | typeof NO_TOKEN | typeof MULTIPLE_TOKENS | typeof NOT_A_STRING

export interface TokenSources {
  readonly params: ReadonlySet<string>
  readonly cookies: readonly string[]
  /** Lower-cased. */
  readonly headers: readonly string[]
}

const BEARER = /^\s*[Bb]earer\s+(.+)/

/**
 * BEARER's capture. The usual `Bearer <token>` is read without the regular expression (which copies the
 * token through a capture on every request); anything else (leading spaces, several spaces, a tab) takes
 * the expression, so what is accepted is exactly what it accepts.
 */
export function bearerToken(value: string): string | null {
  const first = value.charCodeAt(0)
  if ((first === 66 || first === 98) && value.startsWith('earer ', 1) && value.length > 7) {
    const next = value.charCodeAt(7)
    // Not whitespace (\s would take it as part of the separator): the token starts here.
    // Nor a line break later on (where `.+` would stop; a parsed header value has none).
    if (next > 32 && next !== 160 && next < 0x1680 && !/[\n\r\u2028\u2029]/.test(value)) return value.slice(7)
  }
  const match = BEARER.exec(value)
  return match === null ? null : match[1]!
}

/** Collects distinct values; `true` stands for a parameter without a value. */
class TokenSet {
  first: string | true | undefined = undefined
  multiple = false
  add(value: string | true): void {
    if (this.first === undefined) this.first = value
    else if (this.first !== value) this.multiple = true
  }
}

export function extractToken(req: IncomingMessage, query: string, sources: TokenSources): Extraction {
  const found = new TokenSet()
  if (query.length > 1 && sources.params.size > 0) fromQuery(query, sources.params, found)
  if (sources.cookies.length > 0) {
    const cookie = req.headers.cookie
    if (cookie !== undefined) for (const name of sources.cookies) fromCookie(cookie, name, found)
  }
  for (const name of sources.headers) {
    let value = req.headers[name]
    if (value === undefined) continue
    // Node joins repeated headers with ", " (a token has no comma): take the first line, as Kong does.
    if (typeof value !== 'string' || value.includes(',')) value = req.headersDistinct[name]?.[0] ?? ''
    const token = bearerToken(value)
    if (token !== null) found.add(token)
  }
  if (found.multiple) return MULTIPLE_TOKENS
  if (found.first === undefined) return NO_TOKEN
  return found.first === true ? NOT_A_STRING : found.first
}

/** `query` starts with `?`. Kong ignores `jwt=` (empty) and reads `jwt` (no `=`) as true. */
function fromQuery(query: string, names: ReadonlySet<string>, found: TokenSet): void {
  let start = 1
  while (start <= query.length) {
    let end = query.indexOf('&', start)
    if (end === -1) end = query.length
    const eq = query.indexOf('=', start)
    const hasValue = eq !== -1 && eq < end
    const name = decodeComponent(query.slice(start, hasValue ? eq : end))
    if (names.has(name)) {
      if (!hasValue) found.add(true)
      else if (eq + 1 < end) found.add(decodeComponent(query.slice(eq + 1, end)))
    }
    start = end + 1
  }
}

/** The first `name=value` pair of a Cookie header, when its value is not empty (nginx's $cookie_name). */
function fromCookie(header: string, name: string, found: TokenSet): void {
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue
    const value = pair.slice(eq + 1).trim()
    if (value !== '') found.add(value)
    return
  }
}

function decodeComponent(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}
