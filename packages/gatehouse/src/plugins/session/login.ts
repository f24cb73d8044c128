/**
 * GET login_path: starts the authorization code flow (OpenID Connect Core §3.1) with PKCE S256
 * (RFC 7636), a fresh `state` and `nonce`, and `resource` when configured (RFC 8707). What the callback
 * must check later travels in a sealed, short-lived sign-in cookie scoped to the callback path, so the
 * flow works whichever node the browser comes back to. A step-up (`acr_values`, `amr`, `max_age`,
 * `prompt=login` in the query, step-up.ts) is passed to the provider and kept for the callback to check.
 */
import * as client from 'openid-client'
import type { RequestState } from '../../pipeline/request-state.ts'
import type { SessionContext } from './context.ts'
import { requestOrigin, safeReturnTo } from './origin.ts'
import { problems, sendProblem } from './pages.ts'
import { ProviderError } from './provider-client.ts'
import { epochSeconds } from './resolve.ts'
import { authorizationParameters, type StepUp, stepUpFromClaims, stepUpOf } from './step-up.ts'

/** What the sign-in cookie holds. */
export interface LoginTransaction {
  readonly state: string
  readonly nonce: string
  readonly verifier: string
  readonly redirectUri: string
  readonly returnTo: string | null
  /** What a step-up asked for; null for an ordinary sign-in. */
  readonly stepUp: StepUp | null
  /** Epoch seconds the sign-in started (for `prompt=login`: the new auth_time must not be older). */
  readonly startedAt: number
}

export async function startLogin(state: RequestState, c: SessionContext): Promise<void> {
  const { origin, https } = requestOrigin(state)
  const config = c.config
  const redirectUri = config.redirect_uri ?? (origin !== null ? `${origin}${config.callback_path}` : null)
  if (redirectUri === null) return sendProblem(state, problems.noOrigin, null)
  const query = new URLSearchParams(state.query)
  const returnTo = safeReturnTo(query.get('return_to'))
  const stepUp = stepUpOf(query)
  if (stepUp === 'invalid') return sendProblem(state, problems.badStepUp, config.login_path)
  const tx: LoginTransaction = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
    redirectUri,
    returnTo,
    stepUp,
    startedAt: epochSeconds(),
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
  if (stepUp !== null) Object.assign(parameters, authorizationParameters(stepUp))
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
  const { state, nonce, verifier, redirectUri, returnTo, startedAt } = claims
  if (typeof state !== 'string' || typeof nonce !== 'string' || typeof verifier !== 'string') return null
  if (typeof redirectUri !== 'string' || !URL.canParse(redirectUri)) return null
  if (returnTo !== null && typeof returnTo !== 'string') return null
  const stepUp = stepUpFromClaims(claims.stepUp)
  if (stepUp === undefined) return null
  return {
    state,
    nonce,
    verifier,
    redirectUri,
    returnTo: safeReturnTo(returnTo),
    stepUp,
    startedAt: Number.isSafeInteger(startedAt) ? (startedAt as number) : 0,
  }
}
