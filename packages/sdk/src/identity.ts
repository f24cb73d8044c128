/**
 * The caller's identity, read from a verified internal token: one frozen object per request, every field
 * set (absent or empty optional claims are `null` or empty lists), the verified claims, and the raw token to
 * forward on chained calls.
 */
import type { AuthMethod, InternalTokenClaims, SubjectKind } from './claims.ts'

/** The Kong-style consumer the caller matched at the gateway. */
export interface Consumer {
  readonly id: string
  readonly username: string | null
  readonly customId: string | null
}

const BRAND = Symbol.for('gatehouse-sdk.Identity')

/**
 * Who is calling, as the gateway vouched for it. Frozen; `claims` holds every verified claim, including
 * profile claims the gateway mapped (`claims.email`, `claims.country`, …).
 *
 * @example
 * const identity = await verifier.verify(token)
 * if (identity.kind === 'client') console.log('machine caller', identity.clientId)
 * if (!identity.hasScope('orders:write')) throw new Error('no')
 */
export class Identity {
  /** `sub`: the user id, or the client id for client-credentials callers. */
  readonly subject: string
  /** `sub_type`: `user` for a person, `client` for a machine (client credentials). */
  readonly kind: SubjectKind
  /** `client_id`: the OAuth client the caller used, if any. */
  readonly clientId: string | null
  /** `scope`, split on spaces. */
  readonly scopes: readonly string[]
  /** `roles`. */
  readonly roles: readonly string[]
  /** `aud`: this service and the services it may call on with this token. */
  readonly audience: readonly string[]
  /** `iss`: the gateway. */
  readonly issuer: string
  readonly issuedAt: Date
  readonly expiresAt: Date
  /** `jti`. */
  readonly tokenId: string
  /** `txn`: the request id the gateway gave the request (X-Request-ID). */
  readonly requestId: string | null
  /** `auth.method`: how the caller authenticated at the gateway. */
  readonly authMethod: AuthMethod
  /** `auth.iss`: the issuer of the token the caller presented to the gateway, if any. */
  readonly authIssuer: string | null
  /** `consumer`: the gateway consumer the caller matched, if any. */
  readonly consumer: Consumer | null
  /** `acr`: how strongly the person authenticated at their provider (e.g. `urn:gatehouse:acr:2fa`), if said. */
  readonly acr: string | null
  /** `amr`: the authentication methods they used (RFC 8176: `pwd`, `otp`, `hwk`, `mfa`, …); empty if not said. */
  readonly amr: readonly string[]
  /** `auth_time`: when they last authenticated, if said. */
  readonly authTime: Date | null
  /** Every verified claim. */
  readonly claims: InternalTokenClaims
  /** The internal token itself, to forward on chained calls (see `forwardingFetch`). Never log it. */
  readonly token: string
  readonly #scopes: ReadonlySet<string>
  readonly #roles: ReadonlySet<string>

  /** @internal Built by the verifier from verified, contract-checked, frozen claims. */
  constructor(claims: InternalTokenClaims, token: string) {
    const scopes = Object.freeze((claims.scope ?? '').split(' ').filter((s) => s !== ''))
    const roles = claims.roles ?? Object.freeze([])
    const consumer = claims.consumer
    this.subject = claims.sub
    this.kind = claims.sub_type
    this.clientId = claims.client_id || null
    this.scopes = scopes
    this.roles = roles
    this.audience = claims.aud
    this.issuer = claims.iss
    this.issuedAt = new Date(claims.iat * 1000)
    this.expiresAt = new Date(claims.exp * 1000)
    this.tokenId = claims.jti
    this.requestId = claims.txn || null
    this.authMethod = claims.auth.method
    this.authIssuer = claims.auth.iss || null
    this.consumer =
      consumer === undefined
        ? null
        : Object.freeze({
            id: consumer.id,
            username: consumer.username || null,
            customId: consumer.custom_id || null,
          })
    this.acr = claims.acr || null
    this.amr = claims.amr ?? Object.freeze([])
    this.authTime = claims.auth_time !== undefined ? new Date(claims.auth_time * 1000) : null
    this.claims = claims
    this.token = token
    this.#scopes = new Set(scopes)
    this.#roles = new Set(roles)
    Object.defineProperty(this, BRAND, { value: true })
    Object.freeze(this)
  }

  /** Whether the token carries every one of `scopes`. */
  hasScope(...scopes: string[]): boolean {
    return scopes.every((s) => this.#scopes.has(s))
  }

  /** Whether the caller has every one of `roles`. */
  hasRole(...roles: string[]): boolean {
    return roles.every((r) => this.#roles.has(r))
  }

  /** Whether the person used every one of `methods` (`amr`), e.g. `hasAmr('mfa')` for a second factor. */
  hasAmr(...methods: string[]): boolean {
    return methods.every((m) => this.amr.includes(m))
  }

  /** Whether the person authenticated no more than `seconds` ago (false when the token does not say). */
  authenticatedWithin(seconds: number, now = Date.now()): boolean {
    return this.authTime !== null && now - this.authTime.getTime() <= seconds * 1000
  }

  /** Never the token: identities end up in logs. */
  toJSON(): Record<string, unknown> {
    const { token: _token, claims: _claims, ...rest } = { ...this }
    return {
      ...rest,
      issuedAt: this.issuedAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
      authTime: this.authTime?.toISOString() ?? null,
    }
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }
}
