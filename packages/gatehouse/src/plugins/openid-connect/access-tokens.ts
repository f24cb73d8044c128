/**
 * A route's access-token check: what holds whichever issuer signed it, then the trusted issuer its
 * `iss` names. Length cap (8 KiB, RFC 8725 §2.6; jose has none) → three base64url segments → header and
 * payload each one JSON object naming no member twice → the unverified `iss` picks the TrustedIssuer
 * (an `iss` no configured issuer has is refused without touching any key) → that issuer verifies it
 * (issuer.ts) with its own keys and rules, and checks `iss` again, verified.
 *
 * Accepted tokens are remembered by their exact string (_shared/expiring-cache.ts), so a client sending
 * the same token again costs a map lookup, not an ES256/RS256 verification. Nothing is re-checked on a
 * hit because every time-dependent check only ever turns from pass to fail at a known instant, and the
 * entry ends there (issuer.ts `#until`: exp, max_token_age, the JWKS max_age, the end of stale keys); nbf
 * and a future iat only ever turn from fail to pass, and failed tokens are never cached. What can turn
 * at any instant (issue 7) is looked up in a map on every use, cached or not: the subject revoked after
 * the token's `iat`, and the issuer's JWKS invalidated since the token was verified (then it is verified
 * again, with keys fetched again). Likewise a key withdrawn anywhere (`key` revocation) or the issuer's
 * key set changed since (issue 10: a rotation or withdrawal at the built-in provider): the token is
 * verified again, and a token naming a withdrawn kid is refused before any key is looked at. Scopes and
 * DPoP proofs are checked per request, outside the cache.
 */
import { decodeProtectedHeader } from 'jose'
import type { Revocations } from '../../redis/revocation.ts'
import { SignedTokenCache } from '../_shared/expiring-cache.ts'
import { hasDuplicateTopLevelMember } from '../_shared/json-duplicates.ts'
import { type Failure, failures as f } from './failures.ts'
import type { AccessToken, TrustedIssuer, Verified } from './issuer.ts'

/** Longest token read, in characters; longer ones are refused before decoding. */
export const MAX_TOKEN_LENGTH = 8192

/** Three base64url segments; the signature may be empty so `alg: none` is refused as such. */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

export type Outcome = AccessToken | Failure

/** A verification, and what was current when it began: it is only reused while all of it still is. */
interface Remembered extends Verified {
  readonly issuer: TrustedIssuer
  /** The invalidation of the issuer's JWKS. */
  readonly jwks: number | undefined
  /** The key revocations (Revocations.keyChanges); `keys` (Verified) is the issuer's key set version. */
  readonly keyChanges: number
}

export class AccessTokens {
  readonly #issuers: ReadonlyMap<string, TrustedIssuer>
  readonly #cache = new SignedTokenCache<Remembered>()
  readonly #revocations: Revocations

  constructor(issuers: readonly TrustedIssuer[], revocations: Revocations) {
    this.#issuers = new Map(issuers.map((i) => [i.issuer, i]))
    this.#revocations = revocations
  }

  /** Synchronous when the token is refused on sight or was verified before. */
  verify(token: string): Outcome | Promise<Outcome> {
    // Only while the node's first look at the shared revocations is under way (its first requests).
    const loading = this.#revocations.settled()
    if (loading !== undefined) return loading.then(() => this.verify(token))
    const cached = this.#cache.get(token, Date.now())
    if (cached !== undefined && this.#current(cached)) return this.#unrevoked(cached.token)
    if (token.length > MAX_TOKEN_LENGTH) return f.tooLong
    if (!COMPACT_JWS.test(token)) return f.malformed
    let header: Record<string, unknown>
    try {
      header = decodeProtectedHeader(token) as Record<string, unknown>
    } catch {
      return f.malformed
    }
    const payload = jsonObject(token.slice(token.indexOf('.') + 1, token.lastIndexOf('.')))
    if (payload === null) return f.malformed
    if (hasDuplicateMember(token.slice(0, token.indexOf('.'))) || hasDuplicateTopLevelMember(payload.text))
      return f.malformed
    const iss = payload.value.iss
    const issuer = typeof iss === 'string' ? this.#issuers.get(iss) : undefined
    if (issuer === undefined) return f.unknownIssuer
    if (typeof header.kid === 'string' && this.#revocations.keyRevoked(header.kid)) return f.keyRevoked
    // Taken before the keys are: a verification racing an invalidation is not remembered past it.
    const jwks = this.#jwksInvalidation(issuer.issuer)
    const keyChanges = this.#revocations.keyChanges()
    const outcome = issuer.verify(token, header)
    if (!(outcome instanceof Promise)) return outcome
    return outcome.then((o) => {
      if (!('token' in o)) return o
      this.#cache.set(token, { ...o, issuer, jwks, keyChanges }, Date.now())
      return this.#unrevoked(o.token)
    })
  }

  /** Whether a remembered verification still holds: nothing it relied on changed since. */
  #current(r: Remembered): boolean {
    return (
      r.keyChanges === this.#revocations.keyChanges() &&
      r.keys === r.issuer.keysVersion &&
      r.jwks === this.#jwksInvalidation(r.issuer.issuer)
    )
  }

  /** The last invalidation of the issuer's JWKS this node knows (any change re-verifies cached tokens). */
  #jwksInvalidation(issuer: string): number | undefined {
    return this.#revocations.revokedAt('jwks', issuer)
  }

  /** The token, unless its subject was revoked at or after its `iat` (both are required claims). */
  #unrevoked(t: AccessToken): Outcome {
    const { sub, iat } = t.claims
    return this.#revocations.subjectRevoked(sub!, iat! * 1000) ? f.revoked : t
  }
}

/** A base64url segment that is one JSON object, with its text; null otherwise. */
function jsonObject(segment: string): { text: string; value: Record<string, unknown> } | null {
  const text = Buffer.from(segment, 'base64url').toString('utf8')
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
    return { text, value: value as Record<string, unknown> }
  } catch {
    return null
  }
}

/**
 * Whether the header JSON names a member twice (`{"alg":"none",…,"alg":"ES256"}`): jose keeps the last,
 * another reader may keep the first, so such a token is refused (RFC 8725 §2.6).
 */
function hasDuplicateMember(segment: string): boolean {
  return hasDuplicateTopLevelMember(Buffer.from(segment, 'base64url').toString('utf8'))
}
