/**
 * Kong's decision sequence for one token (handler.lua do_authentication): decode → key claim (claims,
 * then the JOSE header) → credential → alg equals the credential's → signature → claims →
 * maximum_expiration. The signature is checked by jose's compactVerify with the credential's imported
 * key and its one algorithm as the allow-list, so `alg: none`, HS/RS confusion and keys embedded in the
 * header (`jwk`, `jku`, `x5u`, `x5c`) can never select or replace the key. HMAC tags are compared in
 * constant time: jose calls WebCrypto `subtle.verify`, which Node answers with CRYPTO_memcmp
 * (src/crypto/crypto_hmac.cc). A cache hit replays everything but the time checks, which run again.
 */

import { compactVerify } from 'jose'
import { consumerName } from '../../pipeline/authenticate.ts'
import { type Principal, scopeList } from '../../pipeline/principal.ts'
import { HEADER_SAFE } from '../_shared/caller.ts'
import type { SignedTokenCache } from '../_shared/expiring-cache.ts'
import { type ClaimRules, checkClaims } from './claims.ts'
import { decodeToken } from './decode.ts'
import type { Failure, Failures } from './failures.ts'
import type { JwtCredential, KeyIndex } from './key-index.ts'

/**
 * Longest token read, in characters; longer ones get "Bad token; too long" before any decoding. jose has
 * no limit (RFC 8725 §2.6 asks for one); 8 KiB holds any token a login server issues with room to spare.
 */
export const MAX_TOKEN_LENGTH = 8192

/** A printable ASCII value Node accepts in a header; other claim values are not forwarded. */

export interface VerifierOptions {
  readonly index: KeyIndex
  readonly keyClaimName: string
  readonly rules: ClaimRules
  /** `claims_to_headers`: [claim, lower-cased header]. */
  readonly claimHeaders: readonly (readonly [string, string])[]
  readonly failures: Failures
  readonly cache: SignedTokenCache<VerifiedToken>
}

/** A token whose signature verified, as the cache keeps it. */
export interface VerifiedToken {
  readonly credential: JwtCredential
  readonly claims: Readonly<Record<string, unknown>>
  /** `claims_to_headers` values for this token, computed once: [header, value]. */
  readonly headers: readonly (readonly [string, string])[]
  readonly principal: Principal
  /** Date.now() after which the entry is dropped. */
  readonly until: number
}

/**
 * How long a token without an `exp` claim stays cached, in milliseconds: a token that never expires is
 * verified again at least once a minute.
 */
export const NO_EXP_TTL_MS = 60_000

/** When a verified token's entry expires: at `exp` + leeway, or NO_EXP_TTL_MS from now without one. */
export function cacheUntil(claims: Readonly<Record<string, unknown>>, leeway: number, now: number): number {
  const exp = claims.exp
  return typeof exp === 'number' ? (exp + leeway) * 1000 : now + NO_EXP_TTL_MS
}

export type Outcome = VerifiedToken | Failure

/**
 * Kong's jwt identifies the login server (the consumer owning the credential); the person is the
 * token's `sub`. Without a `sub` the consumer itself is the caller, a program acting for itself.
 */
function jwtPrincipal(
  token: string,
  credential: JwtCredential,
  claims: Readonly<Record<string, unknown>>,
): Principal {
  const sub = claims.sub
  const user = typeof sub === 'string' && sub !== ''
  return Object.freeze({
    subject: user ? sub : consumerName(credential.consumer),
    kind: user ? 'user' : 'client',
    method: 'jwt',
    issuer: typeof claims.iss === 'string' ? claims.iss : null,
    clientId: typeof claims.client_id === 'string' ? claims.client_id : null,
    scopes: scopeList(claims.scope),
    attributes: {},
    claims,
    token,
  })
}

export class JwtVerifier {
  readonly #o: VerifierOptions

  constructor(options: VerifierOptions) {
    this.#o = options
  }

  /** Synchronous unless the signature must be checked (a cache miss). */
  verify(token: string): Outcome | Promise<Outcome> {
    const { failures, cache } = this.#o
    if (token.length > MAX_TOKEN_LENGTH) return failures.tooLong
    const now = Date.now()
    const cached = cache.get(token, now)
    if (cached !== undefined) return this.#checkTime(cached, now)
    const decoded = decodeToken(token)
    if (typeof decoded === 'string') return failures.decode[decoded]
    const name = this.#o.keyClaimName
    let keyValue = ownValue(decoded.claims, name)
    if (keyValue === undefined) keyValue = ownValue(decoded.header, name)
    if (keyValue === undefined) return failures.noKeyClaim
    if (typeof keyValue !== 'string' || keyValue === '') return failures.invalidKeyClaim
    const credential = this.#o.index.get(keyValue)
    if (credential === undefined) return failures.noCredential
    if (decoded.alg !== credential.algorithm) return failures.algorithmMismatch
    const key = credential.key
    if (key === null) return failures.unusableKey
    return compactVerify(token, key, credential.verifyOptions).then(
      () => this.#verified(token, credential, decoded.claims),
      () => failures.badSignature,
    )
  }

  #verified(token: string, credential: JwtCredential, claims: Readonly<Record<string, unknown>>): Outcome {
    const now = Date.now()
    const entry: VerifiedToken = {
      credential,
      claims,
      headers: this.#headerValues(claims),
      principal: jwtPrincipal(token, credential, claims),
      until: cacheUntil(claims, this.#o.rules.leeway, now),
    }
    this.#o.cache.set(token, entry, now)
    return this.#checkTime(entry, now)
  }

  #checkTime(entry: VerifiedToken, now: number): Outcome {
    const errors = checkClaims(entry.claims, this.#o.rules, Math.floor(now / 1000))
    return errors === null ? entry : this.#o.failures.claims(errors)
  }

  #headerValues(claims: Readonly<Record<string, unknown>>): (readonly [string, string])[] {
    const out: (readonly [string, string])[] = []
    for (const [claim, header] of this.#o.claimHeaders) {
      const value = Object.hasOwn(claims, claim) ? claims[claim] : undefined
      const text =
        typeof value === 'string'
          ? value
          : typeof value === 'number' || typeof value === 'boolean'
            ? String(value)
            : null
      if (text !== null && HEADER_SAFE.test(text)) out.push([header, text])
    }
    return out
  }
}

/**
 * A member the JSON itself set, never one inherited from Object.prototype. false and null count as
 * absent, so the JOSE header is read next, as Lua's `claims[k] or header[k]` does for false.
 */
function ownValue(object: Readonly<Record<string, unknown>>, name: string): unknown {
  if (!Object.hasOwn(object, name)) return undefined
  const value = object[name]
  return value === null || value === false ? undefined : value
}
