/**
 * What an explained request carried, said without what could be a credential (POST /explain): a JWT is
 * "a JWT with kid X, alg Y, expired at T", an API key "a value of 24 characters", HTTP Basic names its
 * user and not its password. Only headers that never carry a credential show their values. `secretsOf`
 * lists the values sent, so the whole answer can be scrubbed of them whatever a plugin or a message
 * might have echoed (defence in depth: no message is meant to).
 */
import { decodeJwt, decodeProtectedHeader } from 'jose'

/** Headers whose values say how the request was made, never who made it. */
const PLAIN = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'access-control-request-headers',
  'access-control-request-method',
  'access-control-request-private-network',
  'cache-control',
  'content-type',
  'origin',
  'sec-fetch-dest',
  'sec-fetch-mode',
  'sec-fetch-site',
  'sec-fetch-user',
  'traceparent',
  'user-agent',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-proto',
  'x-real-ip',
  'x-request-id',
])

/** Shorter values are not scrubbed from the answer: they would match unrelated text. */
const MIN_SCRUBBED = 8

export interface SentValue {
  readonly where: 'header' | 'query' | 'cookie'
  readonly name: string
  /** The value itself, for headers in PLAIN only. */
  readonly value?: string
  /** The Authorization scheme (`Bearer`, `Basic`, `DPoP`). */
  readonly scheme?: string
  /** What the value is, never the value. */
  readonly looks_like?: Readonly<Record<string, unknown>>
}

/** Each header line, query parameter and cookie of the request, described. */
export function describeSent(
  headers: readonly (readonly [string, string])[],
  query: readonly (readonly [string, string])[],
): SentValue[] {
  const out: SentValue[] = []
  for (const [raw, value] of headers) {
    const name = raw.toLowerCase()
    if (PLAIN.has(name)) out.push({ where: 'header', name, value })
    else if (name === 'cookie')
      for (const [cookie, v] of cookiesOf(value))
        out.push({ where: 'cookie', name: cookie, looks_like: describe(v) })
    else if (name === 'authorization' || name === 'proxy-authorization') out.push(authorization(name, value))
    else out.push({ where: 'header', name, looks_like: describe(value) })
  }
  for (const [name, value] of query) out.push({ where: 'query', name, looks_like: describe(value) })
  return out
}

/** Every value sent that could be a credential, and its parts (a Bearer token, a Basic password). */
export function secretsOf(
  headers: readonly (readonly [string, string])[],
  query: readonly (readonly [string, string])[],
): string[] {
  const values: string[] = []
  for (const [raw, value] of headers) {
    const name = raw.toLowerCase()
    if (PLAIN.has(name)) continue
    values.push(value)
    if (name === 'cookie') for (const [, v] of cookiesOf(value)) values.push(v)
    const scheme = /^(\S+)\s+(.+)$/.exec(value.trim())
    if (scheme !== null) {
      values.push(scheme[2]!)
      const basic = scheme[1]!.toLowerCase() === 'basic' ? basicOf(scheme[2]!) : null
      if (basic !== null) values.push(basic.password, `${basic.user}:${basic.password}`)
    }
  }
  for (const [, value] of query) values.push(value)
  return [...new Set(values.filter((v) => v.length >= MIN_SCRUBBED))]
}

/** `text` (JSON) with every occurrence of each secret, as JSON would write it, replaced. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    const escaped = JSON.stringify(secret).slice(1, -1)
    out = out.split(escaped).join('[redacted]')
  }
  return out
}

function authorization(name: string, value: string): SentValue {
  const m = /^(\S+)(?:\s+(.*))?$/.exec(value.trim())
  const scheme = m?.[1] ?? ''
  const rest = m?.[2] ?? ''
  if (scheme.toLowerCase() === 'basic') {
    const basic = basicOf(rest)
    return {
      where: 'header',
      name,
      scheme,
      looks_like:
        basic === null
          ? { type: 'malformed Basic credentials' }
          : {
              type: 'Basic credentials',
              user: basic.user,
              password: `${[...basic.password].length} characters, not shown`,
            },
    }
  }
  return { where: 'header', name, scheme, looks_like: describe(rest) }
}

function basicOf(encoded: string): { user: string; password: string } | null {
  const text = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = text.indexOf(':')
  return colon < 0 ? null : { user: text.slice(0, colon), password: text.slice(colon + 1) }
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/** A JWT by its header and registered claims; anything else by its length. */
function describe(value: string): Record<string, unknown> {
  if (JWT.test(value)) {
    try {
      const header = decodeProtectedHeader(value)
      const claims = decodeJwt(value)
      const now = Date.now() / 1000
      const time = (t: unknown) => (typeof t === 'number' ? new Date(t * 1000).toISOString() : undefined)
      return {
        type: 'JWT (its signature is checked by the plugins, not here)',
        alg: header.alg,
        kid: header.kid,
        typ: header.typ,
        iss: claims.iss,
        sub: claims.sub,
        aud: claims.aud,
        issued_at: time(claims.iat),
        not_before: time(claims.nbf),
        expires_at: time(claims.exp),
        expired: typeof claims.exp === 'number' ? claims.exp <= now : undefined,
      }
    } catch {
      // Not decodable as a JWT: described as any other value.
    }
  }
  return { type: 'a value', characters: [...value].length }
}

function cookiesOf(header: string): [string, string][] {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=')
      return eq < 0 ? [pair, ''] : [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()]
    })
}
