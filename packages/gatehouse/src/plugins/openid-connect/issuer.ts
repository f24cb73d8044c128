/**
 * Verifies an access token from one trusted issuer, as RFC 9068 §4 and RFC 8725 ask: header checks
 * before any key is fetched (alg in this issuer's allow-list, `kid` a string when present, `typ` an
 * access-token type) → jose `jwtVerify` with this issuer's keys and every option jose needs to check
 * anything at all (algorithms, issuer, audience, typ, clockTolerance, maxTokenAge, requiredClaims) →
 * what jose leaves out (`iat` in the future without maxTokenAge; the caller claim is a header-safe
 * string; `cnf` is a key binding this resource can check). Never throws: every failure, expected or
 * not, is a Failure. The token's length, shape and issuer were checked by access-tokens.ts, which also
 * remembers accepted tokens until `until`: the first instant a fresh verification could refuse them.
 *
 * Each trusted issuer has its own instance — keys, audience, algorithms, claim mapping — and nothing is
 * shared between them (RFC 8725 §3.8).
 */
import { errors, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify } from 'jose'
import type { Logger } from '../../observability/logger.ts'
import { scopeList } from '../../pipeline/principal.ts'
import { type Caller, HEADER_SAFE } from '../_shared/caller.ts'
import type { ClaimMapping } from './attributes.ts'
import { type Failure, failures as f } from './failures.ts'
import { SourceUnavailable } from './fetch-json.ts'
import type { TokenKeys } from './key-set.ts'
import type { IssuerSettings } from './trusted-issuers.ts'

/** Claims every access token must carry (RFC 9068 §2.2 requires more; these are the ones relied on). */
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub'] as const

/** An RFC 7638 SHA-256 thumbprint, base64url (RFC 9449 §6.1). */
const JKT = /^[A-Za-z0-9_-]{43}$/

export interface AccessToken {
  readonly claims: JWTPayload
  readonly caller: Caller
  /** `cnf.jkt`: the thumbprint of the DPoP key the token is bound to, or null for a bearer token. */
  readonly jkt: string | null
}

export interface Verified {
  readonly token: AccessToken
  /** Date.now() from which the verification must not be reused. */
  readonly until: number
  /** The version of the issuer's key set that verified it (TokenKeys.version). */
  readonly keys: number
}

/** jose's typ comparison (lib/jwt_claims_set.ts normalizeTyp): case-insensitive, `application/` optional. */
export function normalizeType(typ: string): string {
  const lower = typ.toLowerCase()
  return typ.includes('/') ? lower : `application/${lower}`
}

export class TrustedIssuer {
  readonly issuer: string
  readonly #s: IssuerSettings
  readonly #keys: TokenKeys
  readonly #mapping: ClaimMapping
  readonly #logger: Logger
  readonly #algorithms: ReadonlySet<string>
  readonly #types: ReadonlySet<string>
  readonly #verifyOptions: JWTVerifyOptions
  #lastWarning = Number.NEGATIVE_INFINITY

  constructor(settings: IssuerSettings, keys: TokenKeys, mapping: ClaimMapping, logger: Logger) {
    this.issuer = settings.issuer
    this.#s = settings
    this.#keys = keys
    this.#mapping = mapping
    this.#logger = logger
    this.#algorithms = new Set(settings.algorithms)
    this.#types = new Set(settings.tokenTypes.map(normalizeType))
    const verifyOptions: JWTVerifyOptions = {
      algorithms: [...settings.algorithms],
      issuer: settings.issuer,
      audience: settings.audience,
      clockTolerance: settings.leeway,
      requiredClaims: [...new Set([...REQUIRED_CLAIMS, settings.consumerClaim])],
    }
    // jose takes one typ; with several accepted types the header check in verify() is the only one.
    if (this.#types.size === 1) verifyOptions.typ = [...this.#types][0]!
    if (settings.maxTokenAge !== undefined) verifyOptions.maxTokenAge = settings.maxTokenAge
    this.#verifyOptions = Object.freeze(verifyOptions)
  }

  /** Changes whenever this issuer's key set does (a fetch, a rotation, a withdrawn key). */
  get keysVersion(): number {
    return this.#keys.version
  }

  /** Synchronous when the header alone refuses the token. */
  verify(token: string, header: Readonly<Record<string, unknown>>): Failure | Promise<Verified | Failure> {
    const { alg, kid, typ } = header
    if (typeof alg !== 'string' || !this.#algorithms.has(alg)) return f.algorithm
    // No kid is fine when the JWKS has exactly one key for the alg (jose refuses several candidates).
    if (kid !== undefined && (typeof kid !== 'string' || kid === '')) return f.badKid
    if (typeof typ !== 'string' || !this.#types.has(normalizeType(typ))) return f.type
    let usableUntil = Number.POSITIVE_INFINITY
    let keys = this.#keys.version
    const getKey: JWTVerifyGetKey = async (protectedHeader, jws) => {
      const resolved = await this.#keys.resolve(protectedHeader, jws)
      usableUntil = resolved.usableUntil
      keys = resolved.version
      return resolved.key
    }
    return jwtVerify(token, getKey, this.#verifyOptions).then(
      ({ payload }) => this.#accepted(token, payload, usableUntil, keys),
      (err: unknown) => this.#refused(err),
    )
  }

  #accepted(token: string, claims: JWTPayload, keysUsableUntil: number, keys: number): Verified | Failure {
    const nowMs = Date.now()
    const now = Math.floor(nowMs / 1000)
    const { leeway, maxTokenAge, consumerClaim } = this.#s
    // jose checks a future iat only together with maxTokenAge.
    if (maxTokenAge === undefined && (claims.iat as number) - leeway > now) return f.issuedInFuture
    const name = claims[consumerClaim]
    if (typeof name !== 'string' || name === '' || !HEADER_SAFE.test(name))
      return f.invalidClaim(consumerClaim)
    if (typeof claims.sub !== 'string' || claims.sub === '') return f.invalidClaim('sub')
    const jkt = binding(claims.cnf)
    if (typeof jkt === 'object' && jkt !== null) return jkt
    const clientId = headerSafe(claims.client_id)
    const accepted: AccessToken = {
      claims,
      jkt,
      caller: {
        name,
        clientId,
        scope: headerSafe(claims.scope),
        principal: Object.freeze({
          subject: claims.sub,
          // Client credentials tokens carry the client as their subject (RFC 9068 §2.2).
          kind: clientId !== null && claims.sub === clientId ? 'client' : 'user',
          method: 'openid-connect',
          issuer: this.issuer,
          clientId,
          scopes: scopeList(claims.scope),
          attributes: this.#mapping.attributes(claims),
          claims,
          token,
        }),
      },
    }
    return { token: accepted, until: this.#until(claims, nowMs, keysUsableUntil), keys }
  }

  /**
   * The first instant a fresh verification could refuse this token (jwtVerify required exp and iat):
   * its expiry, its maximum age, the JWKS max_age from now (a withdrawn key stops being honoured), and
   * never past the end of the stale period of the keys that verified it.
   */
  #until(claims: JWTPayload, nowMs: number, keysUsableUntil: number): number {
    const { leeway, maxTokenAge, jwksCache } = this.#s
    let until = ((claims.exp as number) + leeway) * 1000
    if (maxTokenAge !== undefined)
      until = Math.min(until, ((claims.iat as number) + maxTokenAge + leeway) * 1000)
    return Math.min(until, nowMs + jwksCache.maxAge * 1000, keysUsableUntil)
  }

  #refused(err: unknown): Failure {
    if (err instanceof SourceUnavailable) return f.keysUnavailable
    if (err instanceof errors.JOSEError) {
      switch (err.code) {
        case 'ERR_JWT_EXPIRED':
          return (err as errors.JWTExpired).claim === 'iat' ? f.tooOld : f.expired
        case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
          return claimFailure(err as errors.JWTClaimValidationFailed)
        case 'ERR_JWKS_NO_MATCHING_KEY':
          return f.unknownKey
        case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
          return f.ambiguousKey
        case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
          return f.signature
        case 'ERR_JOSE_ALG_NOT_ALLOWED':
          return f.algorithm
        case 'ERR_JWS_INVALID':
        case 'ERR_JWT_INVALID':
        case 'ERR_JOSE_NOT_SUPPORTED':
          return f.malformed
        case 'ERR_JWKS_TIMEOUT':
        case 'ERR_JWKS_INVALID':
          return f.keysUnavailable
      }
    }
    // Not a token problem we know (a key in the JWKS jose cannot import, say): refuse, and say so, at
    // warn level at most once a minute, so a stream of such tokens cannot flood the log.
    const now = Date.now()
    const level = now - this.#lastWarning >= 60_000 ? 'warn' : 'debug'
    if (level === 'warn') this.#lastWarning = now
    this.#logger[level](
      { issuer: this.issuer, reason: f.unverifiable.reason, error: (err as Error)?.message ?? String(err) },
      'openid-connect could not verify a token',
    )
    return f.unverifiable
  }
}

/**
 * The DPoP key thumbprint of a `cnf` claim (RFC 7800, RFC 9449 §6): null without `cnf`; a Failure for a
 * `cnf` that is not an object with a well-formed `jkt`, or that binds the token some other way (an mTLS
 * certificate, RFC 8705), which this resource cannot check and so must not take for a bearer token.
 */
function binding(cnf: unknown): string | null | Failure {
  if (cnf === undefined) return null
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return f.invalidClaim('cnf')
  const members = Object.keys(cnf)
  if (members.some((m) => m !== 'jkt')) return f.unsupportedBinding
  const jkt = (cnf as { jkt?: unknown }).jkt
  return typeof jkt === 'string' && JKT.test(jkt) ? jkt : f.invalidClaim('cnf')
}

function claimFailure(err: errors.JWTClaimValidationFailed): Failure {
  if (err.reason === 'missing') return f.missingClaim(err.claim)
  const failedCheck = err.reason === 'check_failed'
  switch (err.claim) {
    case 'iss':
      return f.issuer
    case 'aud':
      return f.audience
    case 'typ':
      return f.type
    case 'nbf':
      return failedCheck ? f.notYetValid : f.invalidClaim('nbf')
    case 'iat':
      return failedCheck ? f.issuedInFuture : f.invalidClaim('iat')
    default:
      return f.invalidClaim(err.claim)
  }
}

function headerSafe(value: unknown): string | null {
  return typeof value === 'string' && value !== '' && HEADER_SAFE.test(value) ? value : null
}
