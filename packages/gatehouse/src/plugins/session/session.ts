/**
 * A browser session: who signed in (the ID token's `sub`, and a name and e-mail to show), the provider's
 * tokens for them, the CSRF token, and when it began and was last used. Records are immutable: a refresh
 * or a use makes a new one. The sealed form uses short member names, since it travels in a cookie.
 */
import { createHash, randomBytes } from 'node:crypto'
import { decodeJwt } from 'jose'
import { type AuthContext, authContextOf } from '../_shared/step-up.ts'

export interface SessionRecord {
  /** Random id: the cookie value with server storage; with cookie storage it names the session in logs and caches. */
  readonly sid: string
  /** The ID token's `sub`. */
  readonly sub: string
  readonly name: string | null
  readonly email: string | null
  readonly accessToken: string
  /** Epoch seconds; 0 when the provider did not say (the token is then never refreshed ahead). */
  readonly accessExpiresAt: number
  readonly refreshToken: string | null
  /** For `id_token_hint` at logout. */
  readonly idToken: string | null
  /** The token response's space-separated `scope`, if any. */
  readonly scope: string | null
  readonly csrf: string
  /** Epoch seconds. */
  readonly createdAt: number
  /** Epoch seconds of the last request that counted as use. */
  readonly seenAt: number
  /**
   * How the person signed in, from the ID token the session was made from (step-up, issue 14): its `acr`,
   * `amr` and `auth_time`. A refresh keeps them: it proves nothing new about the person.
   */
  readonly auth: AuthContext
}

export interface Lifetimes {
  readonly idle: number
  readonly absolute: number
}

/** A random identifier: 32 bytes, base64url. */
export function randomId(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The name a session goes by outside the browser (logs, the session info, `POST /revocations`): a hash of
 * its random id, which with server-side storage is the cookie value and must never be shown.
 */
export function publicSessionId(sid: string): string {
  return createHash('sha256').update('gatehouse-session\0').update(sid).digest('base64url').slice(0, 32)
}

/** When the session ends if unused from now on (epoch seconds). */
export function endsAt(r: SessionRecord, t: Lifetimes): number {
  return Math.min(r.seenAt + t.idle, r.createdAt + t.absolute)
}

export function isOver(r: SessionRecord, t: Lifetimes, now: number): boolean {
  return endsAt(r, t) <= now
}

/** The claims of a JWT, decoded without verification, or null when it is not a JWT (an opaque token). */
export function jwtClaims(token: string | null): Record<string, unknown> | null {
  if (token === null || token.split('.').length !== 3) return null
  try {
    return decodeJwt(token)
  } catch {
    return null
  }
}

/** A display string claim (name, e-mail): a non-empty string of reasonable length, else null. */
export function displayClaim(...candidates: unknown[]): string | null {
  for (const c of candidates) if (typeof c === 'string' && c !== '' && c.length <= 256) return c
  return null
}

/** The sealed (cookie) form. */
export function toClaims(r: SessionRecord): Record<string, unknown> {
  return {
    sid: r.sid,
    sub: r.sub,
    nm: r.name,
    em: r.email,
    at: r.accessToken,
    ax: r.accessExpiresAt,
    rt: r.refreshToken,
    it: r.idToken,
    sc: r.scope,
    cs: r.csrf,
    ca: r.createdAt,
    sa: r.seenAt,
    ac: r.auth.acr,
    am: r.auth.amr,
    au: r.auth.authTime,
  }
}

const str = (v: unknown): v is string => typeof v === 'string' && v !== ''
const strOrNull = (v: unknown): v is string | null => v === null || str(v)
const int = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

/**
 * A record from its sealed form; null when a member is missing or of the wrong type. A session sealed
 * before step-up existed has no `ac`/`am`/`au`: its authentication is unknown, which meets no requirement.
 */
export function fromClaims(c: Record<string, unknown>): SessionRecord | null {
  if (!str(c.sid) || !str(c.sub) || !str(c.at) || !str(c.cs)) return null
  if (!strOrNull(c.nm) || !strOrNull(c.em) || !strOrNull(c.rt) || !strOrNull(c.it) || !strOrNull(c.sc))
    return null
  if (!int(c.ax) || !int(c.ca) || !int(c.sa)) return null
  return Object.freeze({
    sid: c.sid,
    sub: c.sub,
    name: c.nm,
    email: c.em,
    accessToken: c.at,
    accessExpiresAt: c.ax,
    refreshToken: c.rt,
    idToken: c.it,
    scope: c.sc,
    csrf: c.cs,
    createdAt: c.ca,
    seenAt: c.sa,
    auth: Object.freeze(authContextOf({ acr: c.ac, amr: c.am, auth_time: c.au })),
  })
}

/** What a token endpoint answered (code exchange or refresh), as openid-client returns it. */
export interface TokenSet {
  readonly access_token: string
  readonly expires_in?: number | undefined
  readonly refresh_token?: string | undefined
  readonly id_token?: string | undefined
  readonly scope?: string | undefined
}

/** The access token's expiry: `expires_in` from now, else its own `exp` when it is a JWT, else 0. */
export function accessExpiry(tokens: TokenSet, now: number): number {
  if (typeof tokens.expires_in === 'number' && tokens.expires_in >= 0)
    return now + Math.floor(tokens.expires_in)
  const exp = jwtClaims(tokens.access_token)?.exp
  return int(exp) ? exp : 0
}

/** The record after a refresh: new tokens (a refresh token or ID token not sent again stays). */
export function refreshed(r: SessionRecord, tokens: TokenSet, now: number): SessionRecord {
  const id = tokens.id_token !== undefined ? jwtClaims(tokens.id_token) : null
  return Object.freeze({
    ...r,
    name: displayClaim(id?.name, r.name),
    email: displayClaim(id?.email, r.email),
    accessToken: tokens.access_token,
    accessExpiresAt: accessExpiry(tokens, now),
    refreshToken: tokens.refresh_token ?? r.refreshToken,
    idToken: tokens.id_token ?? r.idToken,
    scope: tokens.scope || r.scope,
  })
}
