/**
 * GET login_path: starts the authorization code flow (OpenID Connect Core §3.1) with PKCE S256
 * (RFC 7636), a fresh `state` and `nonce`, and `resource` when configured (RFC 8707). What the callback
 * must check later travels in a sealed, short-lived sign-in cookie scoped to the callback path, so the
 * flow works whichever node the browser comes back to.
 */
import * as client from 'openid-client'
import type { RequestState } from '../../pipeline/request-state.ts'
import type { SessionContext } from './context.ts'
import { requestOrigin, safeReturnTo } from './origin.ts'
import { problems, sendProblem } from './pages.ts'
import { ProviderError } from './provider-client.ts'
import { epochSeconds } from './resolve.ts'

/** What the sign-in cookie holds. */
export interface LoginTransaction {
  readonly state: string
  readonly nonce: string
  readonly verifier: string
  readonly redirectUri: string
  readonly returnTo: string | null
}

export async function startLogin(state: RequestState, c: SessionContext): Promise<void> {
  const { origin, https } = requestOrigin(state)
  const config = c.config
  const redirectUri = config.redirect_uri ?? (origin !== null ? `${origin}${config.callback_path}` : null)
  if (redirectUri === null) return sendProblem(state, problems.noOrigin, null)
  const returnTo = safeReturnTo(new URLSearchParams(state.query).get('return_to'))
  const tx: LoginTransaction = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
    redirectUri,
    returnTo,
  }
  const parameters: Record<string, string> = {
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: config.scopes.join(' '),
    state: tx.state,
    nonce: tx.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(tx.verifier),
    code_challenge_method: 'S256',
  }
  if (config.resource !== undefined) parameters.resource = config.resource
  let url: URL
  try {
    url = await c.provider.authorizationUrl(parameters)
  } catch (err) {
    c.logger.warn({ reason: (err as ProviderError).reason ?? 'error' }, 'session sign-in cannot start')
    if (err instanceof ProviderError) return sendProblem(state, problems.unavailable, config.login_path)
    throw err
  }
  const sealed = await c.sealer.seal('login', { ...tx }, epochSeconds() + config.login_timeout)
  state.exit(302, undefined, {
    location: url.href,
    'cache-control': 'no-store',
    'set-cookie': [c.loginCookie(sealed, https)],
  })
}

/** The transaction in an opened sign-in cookie; null when a member is missing or of the wrong type. */
export function transactionOf(claims: Record<string, unknown> | null): LoginTransaction | null {
  if (claims === null) return null
  const { state, nonce, verifier, redirectUri, returnTo } = claims
  if (typeof state !== 'string' || typeof nonce !== 'string' || typeof verifier !== 'string') return null
  if (typeof redirectUri !== 'string' || !URL.canParse(redirectUri)) return null
  if (returnTo !== null && typeof returnTo !== 'string') return null
  return { state, nonce, verifier, redirectUri, returnTo: safeReturnTo(returnTo) }
}
