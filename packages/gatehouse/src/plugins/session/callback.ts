/**
 * GET callback_path: completes a sign-in. The sign-in cookie must be there, open, and name the `state`
 * the provider sent back; then openid-client exchanges the code (client_secret_basic, the PKCE verifier)
 * and checks the ID token (signature by the provider's JWKS, iss, aud, nonce, exp) and the `iss` response
 * parameter (RFC 9207). The new session always gets a new random id and CSRF token (no fixation: a
 * session the browser already had is ended), its cookies are set, the sign-in cookie is cleared, and the
 * browser goes on to `return_to` or `post_login_redirect`. Anything that goes wrong is a small page with
 * a link to sign in again, never a session and never a 500. A step-up sign-in (step-up.ts) must also come
 * back with what it asked for (acr, amr, auth_time in the new ID token): otherwise the session it made is
 * kept (it is a real sign-in) but the browser is shown why, not sent back to a page that would send it
 * round again.
 */
import type { RequestState } from '../../pipeline/request-state.ts'
import { HEADER_SAFE } from '../_shared/caller.ts'
import { authContextOf } from '../_shared/step-up.ts'
import type { SessionContext } from './context.ts'
import { readCookie } from './cookies.ts'
import { type LoginTransaction, transactionOf } from './login.ts'
import { requestOrigin } from './origin.ts'
import { type Problem, problems, sendProblem } from './pages.ts'
import { ProviderError, type TokenResponse } from './provider-client.ts'
import { epochSeconds, logId } from './resolve.ts'
import { accessExpiry, displayClaim, jwtClaims, randomId, type SessionRecord } from './session.ts'
import { stepUpMet } from './step-up.ts'
import { SessionStoreUnavailable } from './store.ts'

export async function completeLogin(state: RequestState, c: SessionContext): Promise<void> {
  const { https } = requestOrigin(state)
  const retry = c.config.login_path
  const fail = (p: Problem, detail?: Record<string, unknown>) => {
    c.logger.info({ reason: p.reason, request_id: state.requestId, ...detail }, 'session sign-in failed')
    sendProblem(state, p, retry, { 'set-cookie': [c.clearLoginCookie(https)] })
  }
  const sealed = readCookie(state.req.headers.cookie, c.names.login)
  const tx = transactionOf(sealed !== null ? await c.sealer.unseal('login', sealed) : null)
  if (tx === null) return fail(problems.loginExpired)
  const params = new URLSearchParams(state.query)
  if (params.get('state') !== tx.state) return fail(problems.stateMismatch)
  const error = params.get('error')
  if (error !== null)
    return fail(problemFor(error, tx), {
      error: /^[\x20-\x7e]{1,64}$/.test(error) ? error : 'invalid_error',
    })

  let tokens: TokenResponse
  try {
    tokens = await c.provider.exchange(
      new URL(`${tx.redirectUri}${state.query}`),
      { pkceCodeVerifier: tx.verifier, expectedState: tx.state, expectedNonce: tx.nonce },
      c.config.resource,
    )
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err
    return fail(err.kind === 'refused' ? problems.refused : problems.unavailable, { error: err.reason })
  }
  const record = await newSession(c, tokens)
  if (record === null) return fail(problems.refused, { error: 'unusable_sub' })

  const now = epochSeconds()
  let value: string
  try {
    value = (await c.keeper.save(record, true, now))!
  } catch (err) {
    if (!(err instanceof SessionStoreUnavailable)) throw err
    return fail(problems.unavailable, { error: 'session_store_unavailable' })
  }
  if (!c.fits(value)) {
    c.logger.error(
      { size: c.cookieSize(value), max_size: c.config.cookie.max_size, request_id: state.requestId },
      'session cookie too large: the tokens do not fit in cookie.max_size; set storage: redis (several nodes) or server (one node)',
    )
    return fail(problems.tooLarge)
  }
  await endPrevious(state, c)
  c.logger.info({ session: logId(record), request_id: state.requestId }, 'session started')
  const cookies = [c.clearLoginCookie(https), ...c.sessionCookies(value, record, https, now)]
  const short = tx.stepUp !== null ? stepUpMet(tx.stepUp, record.auth, now, tx.startedAt) : null
  if (short !== null) {
    c.logger.info(
      {
        reason: problems.stepUpUnmet.reason,
        unmet: short,
        session: logId(record),
        request_id: state.requestId,
      },
      'session step-up not met by the new sign-in',
    )
    return sendProblem(state, problems.stepUpUnmet, retry, { 'set-cookie': cookies })
  }
  state.exit(302, undefined, {
    location: destination(tx, c),
    'cache-control': 'no-store',
    'set-cookie': cookies,
  })
}

/** The page for an `error` the provider sent back. */
function problemFor(error: string, tx: LoginTransaction): Problem {
  if (error === 'access_denied') return problems.denied
  // OIDC Core §3.1.2.6 (errata): the provider cannot give the acr or max_age a step-up asked for.
  if (error === 'unmet_authentication_requirements' || (tx.stepUp !== null && error === 'login_required'))
    return problems.stepUpRefused
  return problems.providerError
}

/** The session for the tokens of a completed sign-in; null when the ID token's `sub` cannot name a caller. */
async function newSession(c: SessionContext, tokens: TokenResponse): Promise<SessionRecord | null> {
  const id = tokens.claims()
  const sub = id?.sub
  if (typeof sub !== 'string' || sub === '' || sub.length > 255 || !HEADER_SAFE.test(sub)) return null
  const now = epochSeconds()
  const access = jwtClaims(tokens.access_token)
  let name = displayClaim(id?.name, access?.name, id?.preferred_username, access?.preferred_username)
  let email = displayClaim(id?.email, access?.email)
  if ((name === null || email === null) && access === null) {
    // The built-in provider, like most, puts profile claims in the ID token only without an access
    // token (OIDC Core §5.4): an opaque access token is for userinfo, so ask once.
    const info = await c.provider.userinfo(tokens.access_token, sub).catch(() => null)
    name ??= displayClaim(info?.name, info?.preferred_username)
    email ??= displayClaim(info?.email)
  }
  return Object.freeze({
    sid: randomId(),
    sub,
    name,
    email,
    accessToken: tokens.access_token,
    accessExpiresAt: accessExpiry(tokens, now),
    refreshToken: tokens.refresh_token ?? null,
    idToken: tokens.id_token ?? null,
    // An empty scope (a provider granting none of the requested API scopes) is no scope, not a bad session.
    scope: tokens.scope || null,
    csrf: randomId(),
    createdAt: now,
    seenAt: now,
    auth: Object.freeze(authContextOf(id ?? null)),
  })
}

/** A session this browser already had is over: the new one replaces it (session fixation). */
async function endPrevious(state: RequestState, c: SessionContext): Promise<void> {
  const value = readCookie(state.req.headers.cookie, c.names.session)
  if (value === null) return
  const previous = await c.keeper.load(value).catch(() => null)
  // A store that cannot be reached forgets the old record by itself (its expiry).
  if (previous !== null) await c.keeper.end(previous).catch(() => {})
}

function destination(tx: LoginTransaction, c: SessionContext): string {
  return tx.returnTo ?? c.config.post_login_redirect
}
