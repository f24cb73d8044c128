/**
 * The gateway as an OpenID relying party, through openid-client (panva's certified RP): discovery on
 * first use (a failed attempt is retried after a cooldown, never cached for good), the authorization URL,
 * the code exchange with client_secret_basic and the ID token's checks (signature against the provider's
 * JWKS, iss, aud, azp, nonce, exp, iat: `enableNonRepudiationChecks`, since a loopback provider is reached
 * over plain http where TLS cannot vouch for the issuer), refresh, revocation, userinfo and the
 * end-session URL. Every failure becomes a ProviderError saying whether the provider refused (the grant is
 * gone: end the session) or could not be reached (keep it, try later). Tokens never appear in a message.
 */
import * as client from 'openid-client'

/** Milliseconds after a failed discovery before another is tried. */
const DISCOVERY_COOLDOWN = 5_000

export class ProviderError extends Error {
  /** `refused`: the provider answered no (an OAuth error, a token that fails its checks); `unavailable`: no usable answer. */
  readonly kind: 'refused' | 'unavailable'
  /** The OAuth error code, or a short reason; safe to log. */
  readonly reason: string

  constructor(kind: 'refused' | 'unavailable', reason: string) {
    super(`${kind}: ${reason}`)
    this.name = 'ProviderError'
    this.kind = kind
    this.reason = reason
  }
}

export interface ProviderSettings {
  readonly issuer: string
  readonly clientId: string
  readonly clientSecret: string
  /** Seconds per request. */
  readonly timeout: number
}

export interface CodeChecks {
  readonly pkceCodeVerifier: string
  readonly expectedState: string
  readonly expectedNonce: string
}

export type TokenResponse = Awaited<ReturnType<typeof client.authorizationCodeGrant>>

export class ProviderClient {
  readonly #s: ProviderSettings
  #config: Promise<client.Configuration> | null = null
  #failedAt = 0

  constructor(settings: ProviderSettings) {
    this.#s = settings
  }

  /** The discovered configuration; rejects with a ProviderError (unavailable) while discovery fails. */
  configuration(): Promise<client.Configuration> {
    if (this.#config !== null) return this.#config
    if (Date.now() - this.#failedAt < DISCOVERY_COOLDOWN)
      return Promise.reject(new ProviderError('unavailable', 'discovery_failed'))
    const s = this.#s
    const insecure = new URL(s.issuer).protocol === 'http:'
    const config = client
      .discovery(new URL(s.issuer), s.clientId, undefined, client.ClientSecretBasic(s.clientSecret), {
        timeout: s.timeout,
        execute: [...(insecure ? [client.allowInsecureRequests] : []), client.enableNonRepudiationChecks],
      })
      .catch((err: unknown) => {
        this.#config = null
        this.#failedAt = Date.now()
        throw new ProviderError('unavailable', `discovery_failed: ${describe(err)}`)
      })
    this.#config = config
    return config
  }

  async authorizationUrl(parameters: Record<string, string>): Promise<URL> {
    return client.buildAuthorizationUrl(await this.configuration(), parameters)
  }

  /** The code exchange: `callback` is the redirect URI with the query the provider sent. */
  async exchange(callback: URL, checks: CodeChecks, resource: string | undefined): Promise<TokenResponse> {
    const config = await this.configuration()
    return client
      .authorizationCodeGrant(
        config,
        callback,
        { ...checks, idTokenExpected: true },
        resource !== undefined ? { resource } : undefined,
      )
      .catch(fail)
  }

  async refresh(refreshToken: string, resource: string | undefined): Promise<TokenResponse> {
    const config = await this.configuration()
    return client
      .refreshTokenGrant(config, refreshToken, resource !== undefined ? { resource } : undefined)
      .catch(fail)
  }

  /** Revokes a refresh token (RFC 7009), when the provider has a revocation endpoint. */
  async revoke(refreshToken: string): Promise<void> {
    const config = await this.configuration()
    if (config.serverMetadata().revocation_endpoint === undefined) return
    await client.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' }).catch(fail)
  }

  /** The userinfo claims, or null when the provider has no userinfo endpoint. */
  async userinfo(accessToken: string, subject: string): Promise<Record<string, unknown> | null> {
    const config = await this.configuration()
    if (config.serverMetadata().userinfo_endpoint === undefined) return null
    return client.fetchUserInfo(config, accessToken, subject).catch(fail)
  }

  /** The RP-initiated logout URL, or null when the provider has no end_session_endpoint. */
  async endSessionUrl(parameters: Record<string, string>): Promise<URL | null> {
    const config = await this.configuration()
    if (config.serverMetadata().end_session_endpoint === undefined) return null
    return client.buildEndSessionUrl(config, parameters)
  }
}

/** Rethrows what openid-client threw as a ProviderError. */
function fail(err: unknown): never {
  throw classify(err)
}

export function classify(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err
  if (err instanceof client.ResponseBodyError)
    return new ProviderError(err.status >= 500 ? 'unavailable' : 'refused', safeCode(err.error))
  if (err instanceof client.AuthorizationResponseError)
    return new ProviderError('refused', safeCode(err.error))
  if (err instanceof client.WWWAuthenticateChallengeError)
    return new ProviderError(err.status >= 500 ? 'unavailable' : 'refused', 'challenge')
  if (err instanceof client.ClientError) {
    // An unexpected status or content type: a provider in trouble (5xx, a proxy's HTML page), not a "no".
    const cause = (err as { cause?: unknown }).cause
    const status = cause instanceof Response ? cause.status : 0
    if (status >= 500 || status === 429) return new ProviderError('unavailable', `http_${status}`)
    return new ProviderError('refused', (err.code ?? 'invalid_response').toLowerCase())
  }
  return new ProviderError('unavailable', describe(err))
}

/** An OAuth error code as it may be logged: its characters (RFC 6749 §5.2), else a placeholder. */
function safeCode(code: unknown): string {
  return typeof code === 'string' && /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(code)
    ? code
    : 'invalid_error'
}

/** A network-level failure, named without its details (which may hold URLs with parameters). */
function describe(err: unknown): string {
  if (err instanceof ProviderError) return err.reason
  const name = (err as Error)?.name ?? 'Error'
  const code = (err as { cause?: { code?: unknown } })?.cause?.code
  return typeof code === 'string' ? `${name}: ${code}` : name
}
