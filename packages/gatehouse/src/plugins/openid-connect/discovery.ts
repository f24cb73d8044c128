/**
 * OpenID Connect Discovery for one issuer, only to learn its `jwks_uri`: fetched on first use, not at
 * load (the built-in provider is served by this very process, which is not listening yet), once per
 * plugin instance, shared by concurrent requests, and retried after the backoff when it fails. The
 * document must name the configured issuer exactly (Discovery §4.3), so a misconfigured URL cannot make
 * the route trust another issuer's keys.
 */
import type { Logger } from '../../observability/logger.ts'
import { isTrustedOrigin } from '../_shared/trusted-url.ts'
import { Backoff, fetchJson, SourceUnavailable } from './fetch-json.ts'

/** Where an issuer publishes its metadata (OpenID Connect Discovery 1.0 §4.1). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
}

export class Discovery {
  readonly url: string
  readonly #issuer: string
  readonly #timeoutMs: number
  readonly #logger: Logger
  readonly #backoff = new Backoff()
  #jwksUri: URL | null = null
  #pending: Promise<URL> | null = null

  constructor(issuer: string, timeoutMs: number, logger: Logger) {
    this.url = discoveryUrl(issuer)
    this.#issuer = issuer
    this.#timeoutMs = timeoutMs
    this.#logger = logger
  }

  /** The issuer's JWKS URL; rejects with SourceUnavailable while discovery fails (then waits out the backoff). */
  jwksUri(): Promise<URL> {
    if (this.#jwksUri !== null) return Promise.resolve(this.#jwksUri)
    if (this.#pending !== null) return this.#pending
    if (this.#backoff.waiting(Date.now()))
      return Promise.reject(new SourceUnavailable('discovery failed recently; waiting before the next try'))
    this.#pending = this.#discover().finally(() => {
      this.#pending = null
    })
    return this.#pending
  }

  async #discover(): Promise<URL> {
    try {
      const metadata = await fetchJson(this.url, { signal: AbortSignal.timeout(this.#timeoutMs) })
      const jwksUri = this.#check(metadata)
      this.#backoff.succeeded()
      this.#jwksUri = jwksUri
      this.#logger.info(
        { issuer: this.#issuer, jwks_uri: jwksUri.href },
        'openid-connect discovered the issuer',
      )
      return jwksUri
    } catch (err) {
      const failure =
        err instanceof SourceUnavailable ? err : new SourceUnavailable(String(err), { cause: err })
      const retryInMs = this.#backoff.failed(Date.now())
      this.#logger.warn(
        { issuer: this.#issuer, url: this.url, reason: failure.message, retry_in_ms: retryInMs },
        'openid-connect discovery failed',
      )
      throw failure
    }
  }

  #check(metadata: unknown): URL {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
      throw new SourceUnavailable('the discovery document is not a JSON object')
    const { issuer, jwks_uri: jwksUri } = metadata as Record<string, unknown>
    if (issuer !== this.#issuer)
      throw new SourceUnavailable(
        'the discovery document names another issuer (OpenID Connect Discovery §4.3)',
      )
    if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri))
      throw new SourceUnavailable('the discovery document has no valid jwks_uri')
    const url = new URL(jwksUri)
    if (!isTrustedOrigin(url))
      throw new SourceUnavailable(
        'the discovery document has a jwks_uri that is not https (nor http on loopback)',
      )
    return url
  }
}
