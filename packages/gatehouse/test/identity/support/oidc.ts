/**
 * The independent side of the identity tests: openid-client (a certified relying party) for every
 * protocol exchange, jose's remote JWKS for every signature, and a browserless sign-in through our
 * real login and consent pages.
 */
import assert from 'node:assert/strict'
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose'
import * as client from 'openid-client'
import { Browser, formTo } from './browser.ts'
import { CALLBACK } from './gateway.ts'

export { client }

export async function configFor(
  issuer: string,
  clientId: string,
  secret?: string,
): Promise<client.Configuration> {
  return client.discovery(
    new URL(issuer),
    clientId,
    undefined,
    secret !== undefined ? client.ClientSecretBasic(secret) : client.None(),
    { execute: [client.allowInsecureRequests] },
  )
}

export interface Authorization {
  readonly url: URL
  readonly verifier: string
  readonly state: string
  readonly nonce: string
}

/** An authorization request with PKCE (S256), state and nonce; `params` adds or overrides. */
export async function authorization(
  config: client.Configuration,
  params: Record<string, string> = {},
): Promise<Authorization> {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  })
  return { url, verifier, state, nonce }
}

export interface Credentials {
  readonly username: string
  readonly password: string
}

/**
 * Opens the authorization URL, signs in on the login page and allows on the consent page (if one
 * shows); returns where the provider finally redirects (the client's callback, with code or error).
 */
export async function signIn(
  browser: Browser,
  url: URL,
  credentials: Credentials,
  options: { decision?: 'allow' | 'deny'; pages?: string[] } = {},
): Promise<URL> {
  const origin = url.origin
  const decision = options.decision ?? 'allow'
  let step = await browser.follow(await browser.get(url), origin)
  for (let pages = 0; pages < 4; pages++) {
    if (step instanceof URL) return step
    const html = await step.text()
    assert.equal(step.status, 200, html)
    const title = /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? ''
    options.pages?.push(title)
    if (html.includes('/login"')) {
      const form = formTo(html, '/login')
      step = await browser.follow(
        await browser.post(new URL(form.action, origin), { ...form.fields, ...credentials }),
        origin,
      )
    } else {
      const form = formTo(html, '/confirm')
      step = await browser.follow(
        await browser.post(new URL(form.action, origin), { ...form.fields, decision }),
        origin,
      )
    }
  }
  assert.fail('the sign-in did not end in a redirect to the client')
}

/** Signs in and exchanges the code: the whole code flow with PKCE. */
export async function codeFlow(
  config: client.Configuration,
  credentials: Credentials,
  params: Record<string, string> = {},
  options: { browser?: Browser; DPoP?: client.DPoPHandle; pages?: string[] } = {},
) {
  const auth = await authorization(config, params)
  const callback = await signIn(options.browser ?? new Browser(), auth.url, credentials, {
    ...(options.pages !== undefined ? { pages: options.pages } : {}),
  })
  return client.authorizationCodeGrant(
    config,
    callback,
    {
      pkceCodeVerifier: auth.verifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
      idTokenExpected: true,
    },
    undefined,
    options.DPoP !== undefined ? { DPoP: options.DPoP } : undefined,
  )
}

/** jose's verification of the provider's tokens, keys fetched from its JWKS like any resource server. */
export class TokenVerifier {
  readonly #issuer: string
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>

  constructor(config: client.Configuration) {
    const metadata = config.serverMetadata()
    this.#issuer = metadata.issuer
    this.#jwks = createRemoteJWKSet(new URL(metadata.jwks_uri!), { cooldownDuration: 0 })
  }

  async accessToken(token: string, audience: string): Promise<{ payload: JWTPayload; kid: string }> {
    const { payload, protectedHeader } = await jwtVerify(token, this.#jwks, {
      issuer: this.#issuer,
      audience,
      typ: 'at+jwt',
      algorithms: ['ES256', 'RS256'],
      requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'],
    })
    return { payload, kid: protectedHeader.kid! }
  }

  async idToken(token: string, clientId: string): Promise<{ payload: JWTPayload; kid: string }> {
    const { payload, protectedHeader } = await jwtVerify(token, this.#jwks, {
      issuer: this.#issuer,
      audience: clientId,
      algorithms: ['ES256', 'RS256'],
    })
    return { payload, kid: protectedHeader.kid! }
  }
}

/** Asserts that none of oidc-provider's development defaults ran: each prints a notice or warning. */
export function assertNoDevelopmentDefaults(output: string): void {
  assert.doesNotMatch(output, /oidc-provider (NOTICE|WARNING)/)
  assert.doesNotMatch(output, /development-only|quick start|you (SHOULD|MUST) change/i)
}

/** The OAuth error (code and HTTP status) of a refused openid-client call. */
export async function oauthError(promise: Promise<unknown>): Promise<{ error: string; status: number }> {
  try {
    await promise
  } catch (err) {
    if (err instanceof client.WWWAuthenticateChallengeError) {
      const body = (await err.response.json()) as { error: string }
      return { error: body.error, status: err.status }
    }
    assert.ok(err instanceof client.ResponseBodyError, String(err))
    return { error: err.error, status: err.status }
  }
  assert.fail('expected the request to be refused')
}
