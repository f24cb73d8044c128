/**
 * Verifies an access token from one trusted issuer, as RFC 9068 §4 and RFC 8725 ask: length cap (8 KiB,
 * RFC 8725 §2.6; jose has none) → header checks before any key is fetched (alg in the allow-list, a
 * `kid`, `typ` an access-token type) → jose `jwtVerify` with the issuer's keys and every option jose
 * needs to check anything at all (algorithms, issuer, audience, typ, clockTolerance, maxTokenAge,
 * requiredClaims) → what jose leaves out (`iat` in the future without maxTokenAge; the caller claim is a
 * header-safe string). Never throws: every failure, expected or not, is a Refusal.
 *
 * Accepted tokens are remembered by their exact string (_shared/verified-token-cache.ts), so a client
 * sending the same token again costs a map lookup, not an ES256/RS256 verification. Nothing is re-checked
 * on a hit because every time-dependent check only ever turns from pass to fail at a known instant, and
 * the entry ends there: at `exp` (+ leeway), at `iat` + max_token_age (+ leeway), and at the latest
 * after the JWKS `max_age`, so a key the issuer withdrew stops being honoured as soon as a fresh
 * verification would notice (nbf and a future iat only ever turn from fail to pass, and failed tokens
 * are never cached). Scopes are checked per route on every request, outside the cache.
 *
 * A list of issuers will be a map from `iss` to instances of this class, each with its own keys,
 * audience, algorithms and claim mapping; nothing here is shared between issuers.
 */
import { decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose'
import type { Logger } from '../../observability/logger.ts'
import { scopeList } from '../../pipeline/principal.ts'
import { hasDuplicateTopLevelMember } from '../_shared/json-duplicates.ts'
import { VerifiedTokenCache } from '../_shared/verified-token-cache.ts'
import type { Refusal, Refusals } from './failures.ts'
import { SourceUnavailable } from './fetch-json.ts'
import type { Caller } from './identity.ts'
import type { IssuerKeys } from './key-set.ts'

/** Longest token read, in characters; longer ones are refused before decoding. */
export const MAX_TOKEN_LENGTH = 8192

/** Claims every access token must carry (RFC 9068 §2.2 requires more; these are the ones relied on). */
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub'] as const

/** Three base64url segments; the signature may be empty so `alg: none` is refused as such. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/** A value Node can send in a header: printable ASCII and tab. */
export const HEADER_SAFE = /^[\t\x20-\x7e]*$/

export interface IssuerOptions {
  readonly issuer: string
  readonly audience: string
  readonly algorithms: readonly string[]
  readonly tokenTypes: readonly string[]
  /** Seconds. */
  readonly leeway: number
  /** Seconds, or undefined for no limit beyond `exp`. */
  readonly maxTokenAge: number | undefined
  readonly consumerClaim: string
  readonly keys: IssuerKeys
  /** The JWKS `max_age` in milliseconds: no verification is remembered longer. */
  readonly keysMaxAgeMs: number
  readonly refusals: Refusals
  readonly logger: Logger
}

export interface AccessToken {
  readonly claims: JWTPayload
  readonly caller: Caller
}

interface CachedToken {
  readonly token: AccessToken
  readonly until: number
}

/** jose's typ comparison (lib/jwt_claims_set.ts normalizeTyp): case-insensitive, `application/` optional. */
export function normalizeType(typ: string): string {
  const lower = typ.toLowerCase()
  return typ.includes('/') ? lower : `application/${lower}`
}

export class TrustedIssuer {
  readonly #o: IssuerOptions
  readonly #algorithms: ReadonlySet<string>
  readonly #types: ReadonlySet<string>
  readonly #verifyOptions: JWTVerifyOptions
  readonly #cache = new VerifiedTokenCache<CachedToken>()
  #lastWarning = Number.NEGATIVE_INFINITY

  constructor(options: IssuerOptions) {
    this.#o = options
    this.#algorithms = new Set(options.algorithms)
    this.#types = new Set(options.tokenTypes.map(normalizeType))
    const verifyOptions: JWTVerifyOptions = {
      algorithms: [...options.algorithms],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.leeway,
      requiredClaims: [...new Set([...REQUIRED_CLAIMS, options.consumerClaim])],
    }
    // jose takes one typ; with several accepted types the header check in verify() is the only one.
    if (this.#types.size === 1) verifyOptions.typ = [...this.#types][0]!
    if (options.maxTokenAge !== undefined) verifyOptions.maxTokenAge = options.maxTokenAge
    this.#verifyOptions = Object.freeze(verifyOptions)
  }

  /** Synchronous when the token is refused on sight or was verified before. */
  verify(token: string): AccessToken | Refusal | Promise<AccessToken | Refusal> {
    const r = this.#o.refusals
    const cached = this.#cache.get(token, Date.now())
    if (cached !== undefined) return cached.token
    if (token.length > MAX_TOKEN_LENGTH) return r.tooLong
    if (!COMPACT_JWS.test(token)) return r.malformed
    let header: Record<string, unknown>
    try {
      header = decodeProtectedHeader(token) as Record<string, unknown>
    } catch {
      return r.malformed
    }
    if (hasDuplicateSegmentMember(token)) return r.malformed
    const { alg, kid, typ } = header
    if (typeof alg !== 'string' || !this.#algorithms.has(alg)) return r.algorithm
    if (typeof kid !== 'string' || kid === '') return r.noKid
    if (typeof typ !== 'string' || !this.#types.has(normalizeType(typ))) return r.type
    return jwtVerify(token, this.#o.keys.getKey, this.#verifyOptions).then(
      ({ payload }) => this.#accepted(token, payload),
      (err: unknown) => this.#refused(err),
    )
  }

  #accepted(token: string, claims: JWTPayload): AccessToken | Refusal {
    const r = this.#o.refusals
    const nowMs = Date.now()
    const now = Math.floor(nowMs / 1000)
    // jose checks a future iat only together with maxTokenAge.
    if (this.#o.maxTokenAge === undefined && (claims.iat as number) - this.#o.leeway > now)
      return r.issuedInFuture
    const claim = this.#o.consumerClaim
    const name = claims[claim]
    if (typeof name !== 'string' || name === '' || !HEADER_SAFE.test(name)) return r.invalidClaim(claim)
    if (typeof claims.sub !== 'string' || claims.sub === '') return r.invalidClaim('sub')
    const clientId = headerSafe(claims.client_id)
    const accepted: AccessToken = {
      claims,
      caller: {
        name,
        clientId,
        scope: headerSafe(claims.scope),
        principal: Object.freeze({
          subject: claims.sub,
          // Client credentials tokens carry the client as their subject (RFC 9068 §2.2).
          kind: clientId !== null && claims.sub === clientId ? 'client' : 'user',
          method: 'openid-connect',
          issuer: this.#o.issuer,
          clientId,
          scopes: scopeList(claims.scope),
          attributes: {},
          claims,
          token,
        }),
      },
    }
    this.#cache.set(token, { token: accepted, until: this.#cacheUntil(claims, nowMs) }, nowMs)
    return accepted
  }

  /** The first instant a fresh verification could refuse this token (jwtVerify required exp and iat). */
  #cacheUntil(claims: JWTPayload, nowMs: number): number {
    const { leeway, maxTokenAge } = this.#o
    let until = ((claims.exp as number) + leeway) * 1000
    if (maxTokenAge !== undefined)
      until = Math.min(until, ((claims.iat as number) + maxTokenAge + leeway) * 1000)
    return Math.min(until, nowMs + this.#o.keysMaxAgeMs)
  }

  #refused(err: unknown): Refusal {
    const r = this.#o.refusals
    if (err instanceof SourceUnavailable) return r.keysUnavailable
    if (err instanceof errors.JOSEError) {
      switch (err.code) {
        case 'ERR_JWT_EXPIRED':
          return (err as errors.JWTExpired).claim === 'iat' ? r.tooOld : r.expired
        case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
          return claimRefusal(err as errors.JWTClaimValidationFailed, r)
        case 'ERR_JWKS_NO_MATCHING_KEY':
        case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
          return r.unknownKey
        case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
          return r.signature
        case 'ERR_JOSE_ALG_NOT_ALLOWED':
          return r.algorithm
        case 'ERR_JWS_INVALID':
        case 'ERR_JWT_INVALID':
        case 'ERR_JOSE_NOT_SUPPORTED':
          return r.malformed
        case 'ERR_JWKS_TIMEOUT':
        case 'ERR_JWKS_INVALID':
          return r.keysUnavailable
      }
    }
    // Not a token problem we know (a key in the JWKS jose cannot import, say): refuse, and say so, at
    // warn level at most once a minute, so a stream of such tokens cannot flood the log.
    const now = Date.now()
    const level = now - this.#lastWarning >= 60_000 ? 'warn' : 'debug'
    if (level === 'warn') this.#lastWarning = now
    this.#o.logger[level](
      {
        issuer: this.#o.issuer,
        reason: r.unverifiable.reason,
        error: (err as Error)?.message ?? String(err),
      },
      'openid-connect could not verify a token',
    )
    return r.unverifiable
  }
}

function claimRefusal(err: errors.JWTClaimValidationFailed, r: Refusals): Refusal {
  if (err.reason === 'missing') return r.missingClaim(err.claim)
  const failedCheck = err.reason === 'check_failed'
  switch (err.claim) {
    case 'iss':
      return r.issuer
    case 'aud':
      return r.audience
    case 'typ':
      return r.type
    case 'nbf':
      return failedCheck ? r.notYetValid : r.invalidClaim('nbf')
    case 'iat':
      return failedCheck ? r.issuedInFuture : r.invalidClaim('iat')
    default:
      return r.invalidClaim(err.claim)
  }
}

function headerSafe(value: unknown): string | null {
  return typeof value === 'string' && value !== '' && HEADER_SAFE.test(value) ? value : null
}

/**
 * Whether the header or payload JSON names a member twice (`{"sub":"alice",…,"sub":"admin"}`): jose keeps
 * the last, another reader may keep the first, so such a token is refused (RFC 8725 §2.6). Segments that
 * do not parse are left for jose to refuse.
 */
function hasDuplicateSegmentMember(token: string): boolean {
  const [header, payload] = token.split('.', 2) as [string, string]
  for (const segment of [header, payload]) {
    const text = Buffer.from(segment, 'base64url').toString('utf8')
    try {
      JSON.parse(text)
    } catch {
      continue
    }
    if (hasDuplicateTopLevelMember(text)) return true
  }
  return false
}
