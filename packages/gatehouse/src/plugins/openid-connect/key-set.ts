/**
 * One issuer's signing keys: jose's remote JWKS (fetched on first use, kept `max_age`, fetched again for
 * an unknown `kid` at most once per `cooldown`, never following `jku`/`x5u`), created once — at load from
 * `jwks_uri`, or once discovery has found it — and shared by the routes of a configuration that trust the
 * same issuer with the same fetch settings (plugin.ts memo). Fetches go through our own fetch
 * (jose's `customFetch`), which bounds the document's size and adds a failure backoff: jose retries a
 * failed fetch on the very next request, so without it a down issuer would be asked once per request.
 * Keys belong to this issuer only (RFC 8725 §3.8): a key set is never shared between issuers.
 */
import {
  createRemoteJWKSet,
  customFetch,
  type FetchImplementation,
  type JWTVerifyGetKey,
  type RemoteJWKSet,
  type RemoteJWKSetOptions,
} from 'jose'
import type { Logger } from '../../observability/logger.ts'
import type { Discovery } from './discovery.ts'
import { Backoff, fetchJson, SourceUnavailable } from './fetch-json.ts'

export interface KeySetOptions {
  readonly issuer: string
  /** Configured JWKS URL, or null to ask `discovery`. */
  readonly jwksUri: string | null
  readonly discovery: Discovery | null
  /** Milliseconds, as jose takes them. */
  readonly cooldownMs: number
  readonly maxAgeMs: number
  readonly timeoutMs: number
  readonly logger: Logger
}

export class IssuerKeys {
  readonly #o: KeySetOptions
  readonly #jose: RemoteJWKSetOptions
  readonly #backoff = new Backoff()
  #remote: RemoteJWKSet | null = null

  constructor(options: KeySetOptions) {
    if (options.jwksUri === null && options.discovery === null)
      throw new TypeError('IssuerKeys needs a jwks_uri or a discovery')
    this.#o = options
    this.#jose = {
      cooldownDuration: options.cooldownMs,
      cacheMaxAge: options.maxAgeMs,
      timeoutDuration: options.timeoutMs,
      [customFetch]: this.#fetch,
    }
    if (options.jwksUri !== null) this.#remote = createRemoteJWKSet(new URL(options.jwksUri), this.#jose)
  }

  /** jose's key resolver for `jwtVerify`; rejects with SourceUnavailable when the keys cannot be fetched. */
  readonly getKey: JWTVerifyGetKey = (header, token) => {
    const remote = this.#remote
    if (remote !== null) return remote(header, token)
    return this.#o.discovery!.jwksUri().then((url) => {
      this.#remote ??= createRemoteJWKSet(url, this.#jose)
      return this.#remote(header, token)
    })
  }

  readonly #fetch: FetchImplementation = async (url, init) => {
    if (this.#backoff.waiting(Date.now()))
      throw new SourceUnavailable('the JWKS fetch failed recently; waiting before the next try')
    try {
      const jwks = await fetchJson(url, { signal: init.signal, headers: init.headers })
      if (!isJwkSet(jwks)) throw new SourceUnavailable('the document is not a JWK set')
      this.#backoff.succeeded()
      this.#o.logger.debug(
        { issuer: this.#o.issuer, jwks_uri: url, keys: jwks.keys.length },
        'openid-connect fetched the JWKS',
      )
      return Response.json(jwks)
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
}

/** jose's own test (lib/validate.ts isJwkSet), made here so a bad document counts as a failed fetch. */
function isJwkSet(value: unknown): value is { keys: object[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const keys = (value as { keys?: unknown }).keys
  return Array.isArray(keys) && keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))
}
