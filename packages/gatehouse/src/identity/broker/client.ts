/**
 * Gatehouse as a relying party of one external OpenID Connect provider, through openid-client:
 * discovery on first use (a failure is retried after a cooldown, never cached for good), the
 * authorization URL, and the code exchange with the ID token's checks — signature against the
 * provider's JWKS from discovery (`enableNonRepudiationChecks`: openid-client otherwise trusts an ID
 * token from the token endpoint's TLS, and a loopback provider has none), iss, aud, azp, nonce, exp,
 * iat, PKCE and the `iss` response parameter (RFC 9207). Every failure becomes an UpstreamError saying
 * whether the provider refused or could not be reached; tokens never appear in a message.
 */
import * as client from 'openid-client'
import type { ExternalProviderConfig } from '../../config/schema/external-providers.ts'

const DISCOVERY_COOLDOWN_MS = 5_000

export class UpstreamError extends Error {
  override name = 'UpstreamError'
  /** `refused`: the provider said no, or its answer failed a check; `unavailable`: no usable answer. */
  readonly kind: 'refused' | 'unavailable'
  /** An OAuth error code or a short reason, safe to log. */
  readonly reason: string

  constructor(kind: 'refused' | 'unavailable', reason: string) {
    super(`${kind}: ${reason}`)
    this.kind = kind
    this.reason = reason
  }
}

/** What the callback must check, kept server-side from the start of the sign-in. */
export interface CodeChecks {
  readonly pkceCodeVerifier: string
  readonly expectedState: string
  readonly expectedNonce: string
}

/** The external identity the provider vouched for (ID token, completed by userinfo when it lacks a name). */
export interface UpstreamIdentity {
  readonly subject: string
  readonly email: string | null
  readonly emailVerified: boolean
  readonly username: string | null
  readonly name: string | null
  /** The ID token's `amr`, unfiltered (amr.ts decides what is kept). */
  readonly amr: readonly string[]
}

export class ExternalProviderClient {
  readonly config: ExternalProviderConfig
  readonly #redirectUri: string
  #discovered: Promise<client.Configuration> | null = null
  #failedAt = 0

  constructor(config: ExternalProviderConfig, redirectUri: string) {
    this.config = config
    this.#redirectUri = redirectUri
  }

  #configuration(): Promise<client.Configuration> {
    if (this.#discovered !== null) return this.#discovered
    if (Date.now() - this.#failedAt < DISCOVERY_COOLDOWN_MS)
      return Promise.reject(new UpstreamError('unavailable', 'discovery_failed'))
    const p = this.config
    const auth =
      p.client_auth === 'client_secret_post'
        ? client.ClientSecretPost(p.client_secret)
        : client.ClientSecretBasic(p.client_secret)
    const insecure = new URL(p.issuer).protocol === 'http:'
    const discovered = client
      .discovery(new URL(p.issuer), p.client_id, undefined, auth, {
        timeout: p.timeout,
        execute: [...(insecure ? [client.allowInsecureRequests] : []), client.enableNonRepudiationChecks],
      })
      .catch((err: unknown) => {
        this.#discovered = null
        this.#failedAt = Date.now()
        throw new UpstreamError('unavailable', `discovery_failed: ${describe(err)}`)
      })
    this.#discovered = discovered
    return discovered
  }

  /** The provider's authorization URL for one sign-in (PKCE S256, state, nonce). */
  async authorizationUrl(checks: CodeChecks): Promise<URL> {
    const config = await this.#configuration()
    return client.buildAuthorizationUrl(config, {
      response_type: 'code',
      redirect_uri: this.#redirectUri,
      scope: this.config.scopes.join(' '),
      state: checks.expectedState,
      nonce: checks.expectedNonce,
      code_challenge: await client.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
      code_challenge_method: 'S256',
    })
  }

  /** Exchanges the code of the callback (`query`: its query string, `?` included) and checks the ID token. */
  async exchange(query: string, checks: CodeChecks): Promise<UpstreamIdentity> {
    const config = await this.#configuration()
    const tokens = await client
      .authorizationCodeGrant(config, new URL(`${this.#redirectUri}${query}`), {
        ...checks,
        idTokenExpected: true,
      })
      .catch(fail)
    const claims = tokens.claims()
    const subject = claims?.sub
    if (typeof subject !== 'string' || subject === '' || subject.length > 255)
      throw new UpstreamError('refused', 'unusable_sub')
    let info: Record<string, unknown> = claims as Record<string, unknown>
    // Many providers put profile claims in userinfo only (OIDC Core §5.4); one request, when there is one.
    if (
      str(info.email) === null &&
      str(info.preferred_username) === null &&
      config.serverMetadata().userinfo_endpoint !== undefined
    ) {
      const more = await client.fetchUserInfo(config, tokens.access_token, subject).catch(() => null)
      if (more !== null) info = { ...more, ...claims }
    }
    const amr = Array.isArray(claims?.amr) ? claims.amr.filter((v) => typeof v === 'string') : []
    return {
      subject,
      email: str(info.email),
      emailVerified: info.email_verified === true,
      username: str(info.preferred_username),
      name: str(info.name),
      amr,
    }
  }
}

const str = (v: unknown): string | null =>
  typeof v === 'string' && v.length > 0 && v.length <= 320 ? v : null

function fail(err: unknown): never {
  throw classify(err)
}

export function classify(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err
  if (err instanceof client.ResponseBodyError)
    return new UpstreamError(err.status >= 500 ? 'unavailable' : 'refused', safeCode(err.error))
  if (err instanceof client.AuthorizationResponseError)
    return new UpstreamError('refused', safeCode(err.error))
  if (err instanceof client.WWWAuthenticateChallengeError)
    return new UpstreamError(err.status >= 500 ? 'unavailable' : 'refused', 'challenge')
  if (err instanceof client.ClientError) {
    const cause = (err as { cause?: unknown }).cause
    const status = cause instanceof Response ? cause.status : 0
    if (status >= 500 || status === 429) return new UpstreamError('unavailable', `http_${status}`)
    return new UpstreamError('refused', (err.code ?? 'invalid_response').toLowerCase())
  }
  return new UpstreamError('unavailable', describe(err))
}

/** An OAuth error code as it may be logged (RFC 6749 §5.2 characters), else a placeholder. */
export function safeCode(code: unknown): string {
  return typeof code === 'string' && /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(code)
    ? code
    : 'invalid_error'
}

function describe(err: unknown): string {
  if (err instanceof UpstreamError) return err.reason
  const name = (err as Error)?.name ?? 'Error'
  const code = (err as { cause?: { code?: unknown } })?.cause?.code
  return typeof code === 'string' ? `${name}: ${code}` : name
}
