/**
 * One issuer's signing keys: its JWKS document, fetched on first use — from `jwks_uri`, or where
 * discovery says — and kept `max_age`; fetched again sooner for a token naming a key the set lacks (an
 * unknown `kid`, or no `kid` and no key for its alg), at most once per `cooldown`. Never from `jku` or
 * `x5u`. Key import, selection and verification are jose's (`createLocalJWKSet` over the last good
 * document): a token without `kid` gets the one key usable for its alg, and several candidates are an
 * error, never tried one by one.
 *
 * When `max_age` is over and the fetch fails, the last good keys are still used for up to `stale_ttl`
 * past `max_age` (a warning says so, at most once a minute), while fetches are retried with the
 * backoff (fetch-json.ts): an issuer outage does not take the API down with it. After that, tokens are
 * refused (fail closed). Shared by the routes of a configuration that trust the same issuer with the
 * same fetch settings (plugin.ts memo); never shared between issuers (RFC 8725 §3.8).
 *
 * An invalidation of the issuer's JWKS (`POST /revocations {"jwks": issuer}`, on any node: a key was
 * compromised and withdrawn) makes the next token fetch the keys again, with no stale fallback. A
 * withdrawn key (`{"key": kid}`) is left out of the set the moment this node knows of it, whatever the
 * issuer still publishes, so not even a token without `kid` can be verified with it (issue 10).
 */
import {
  type CompactJWSHeaderParameters,
  type CryptoKey,
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JWTVerifyGetKey,
} from 'jose'
import type { Logger } from '../../observability/logger.ts'
import type { Revocations } from '../../redis/revocation.ts'
import type { Discovery } from './discovery.ts'
import { Backoff, fetchJson, SourceUnavailable } from './fetch-json.ts'

export interface KeySetOptions {
  readonly issuer: string
  /** Configured JWKS URL, or null to ask `discovery`. */
  readonly jwksUri: string | null
  readonly discovery: Discovery | null
  /** Milliseconds. */
  readonly cooldownMs: number
  readonly maxAgeMs: number
  readonly timeoutMs: number
  /** How long past max_age the last keys serve while fetches fail; 0 for not at all. */
  readonly staleTtlMs: number
  readonly logger: Logger
  readonly revocations: Revocations
}

export interface ResolvedKey {
  readonly key: CryptoKey
  /** Date.now() after which the key set this key came from may no longer be used (max_age + stale_ttl). */
  readonly usableUntil: number
  /** The version of the set the key came from (TokenKeys.version). */
  readonly version: number
}

/** Where a trusted issuer's keys come from: its JWKS over HTTP (IssuerKeys), or the built-in provider. */
export interface TokenKeys {
  /**
   * The key that verifies a token with this header. Rejects with jose's JWKS errors (no matching key,
   * several) or SourceUnavailable when no usable keys can be had.
   */
  resolve(header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<ResolvedKey>
  /** Changes whenever the set changes: a verification remembered under another version is redone. */
  readonly version: number
}

/** Warn about stale keys at most this often, per key set. */
const STALE_WARNING_INTERVAL_MS = 60_000

export class IssuerKeys implements TokenKeys {
  readonly #o: KeySetOptions
  readonly #backoff = new Backoff()
  #local: JWTVerifyGetKey | null = null
  /** The last good document, and the key revocations (keyChanges) its local set left out. */
  #document: { keys: object[] } | null = null
  #keyChanges = -1
  #version = 0
  #fetchedAt = Number.NEGATIVE_INFINITY
  #pending: Promise<void> | null = null
  #lastStaleWarning = Number.NEGATIVE_INFINITY
  /** The invalidation of this issuer's JWKS the current keys were fetched after (revokedAt's value). */
  #invalidation: number | undefined = undefined

  constructor(options: KeySetOptions) {
    if (options.jwksUri === null && options.discovery === null)
      throw new TypeError('IssuerKeys needs a jwks_uri or a discovery')
    this.#o = options
  }

  get version(): number {
    return this.#version
  }

  /**
   * The key that verifies a token with this header, chosen by jose. Rejects with jose's JWKS errors
   * (no matching key, several) or SourceUnavailable when no usable keys can be had.
   */
  async resolve(header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<ResolvedKey> {
    const { maxAgeMs, cooldownMs } = this.#o
    const invalidation = this.#o.revocations.revokedAt('jwks', this.#o.issuer)
    if (this.#local === null || invalidation !== this.#invalidation) {
      await this.#refresh()
      this.#invalidation = invalidation
    } else if (Date.now() >= this.#fetchedAt + maxAgeMs) {
      try {
        await this.#refresh()
      } catch (err) {
        if (!(err instanceof SourceUnavailable) || Date.now() >= this.#usableUntil()) throw err
        this.#warnStale()
      }
    }
    if (this.#o.revocations.keyChanges() !== this.#keyChanges) this.#trust(this.#document!)
    let key: CryptoKey
    let version = this.#version
    try {
      key = (await this.#local!(header, token)) as CryptoKey
    } catch (err) {
      // A key the set lacks may have been published since: ask again, at most once per cooldown.
      if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() < this.#fetchedAt + cooldownMs) throw err
      await this.#refresh()
      version = this.#version
      key = (await this.#local!(header, token)) as CryptoKey
    }
    return { key, usableUntil: this.#usableUntil(), version }
  }

  #usableUntil(): number {
    return this.#fetchedAt + this.#o.maxAgeMs + this.#o.staleTtlMs
  }

  /** One fetch at a time, shared by the requests waiting for it; none while the backoff says wait. */
  #refresh(): Promise<void> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = null
    })
    return this.#pending
  }

  async #fetch(): Promise<void> {
    if (this.#backoff.waiting(Date.now()))
      throw new SourceUnavailable('the JWKS fetch failed recently; waiting before the next try')
    const url = this.#o.jwksUri ?? (await this.#o.discovery!.jwksUri()).href
    try {
      const jwks = await fetchJson(url, { signal: AbortSignal.timeout(this.#o.timeoutMs), headers: ACCEPT })
      if (!isJwkSet(jwks)) throw new SourceUnavailable('the document is not a JWK set')
      this.#trust(jwks)
      this.#fetchedAt = Date.now()
      this.#backoff.succeeded()
      this.#o.logger.debug(
        { issuer: this.#o.issuer, jwks_uri: url, keys: jwks.keys.length },
        'openid-connect fetched the JWKS',
      )
    } catch (err) {
      const failure =
        err instanceof SourceUnavailable ? err : new SourceUnavailable(String(err), { cause: err })
      const retryInMs = this.#backoff.failed(Date.now())
      this.#o.logger.warn(
        { issuer: this.#o.issuer, jwks_uri: url, reason: failure.message, retry_in_ms: retryInMs },
        'openid-connect could not fetch the JWKS',
      )
      throw failure
    }
  }

  /** The local set over `jwks` without the keys withdrawn by a `key` revocation. */
  #trust(jwks: { keys: object[] }): void {
    const revocations = this.#o.revocations
    this.#keyChanges = revocations.keyChanges()
    this.#document = jwks
    const kept = jwks.keys.filter((k) => {
      const kid = (k as { kid?: unknown }).kid
      return typeof kid !== 'string' || !revocations.keyRevoked(kid)
    })
    this.#local = createLocalJWKSet({ keys: kept })
    this.#version++
  }

  #warnStale(): void {
    const now = Date.now()
    if (now - this.#lastStaleWarning < STALE_WARNING_INTERVAL_MS) return
    this.#lastStaleWarning = now
    this.#o.logger.warn(
      {
        issuer: this.#o.issuer,
        keys_age_s: Math.floor((now - this.#fetchedAt) / 1000),
        stale_until: new Date(this.#usableUntil()).toISOString(),
      },
      'openid-connect is verifying with stale keys: the JWKS cannot be fetched',
    )
  }
}

const ACCEPT = new Headers({ accept: 'application/json, application/jwk-set+json' })

/** jose's own test (lib/validate.ts isJwkSet), made here so a bad document counts as a failed fetch. */
function isJwkSet(value: unknown): value is { keys: object[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const keys = (value as { keys?: unknown }).keys
  return Array.isArray(keys) && keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))
}
