/**
 * GET or POST logout_path: ends the session at the gateway (deleted, or remembered as ended: by every
 * node when revocations are shared through Redis), clears its cookies, revokes its refresh token at the
 * provider (RFC 7009; best effort, so a provider that is down does not keep anyone signed in here), and
 * sends the browser to the provider's end_session_endpoint
 * (OpenID Connect RP-Initiated Logout 1.0) with `id_token_hint` and `post_logout_redirect_uri`, so the
 * provider's own session ends too; without one, straight to `post_logout_redirect`. A POST with a
 * session must pass the CSRF check, so another site cannot sign the user out.
 */
import type { RequestState } from '../../pipeline/request-state.ts'
import type { SessionContext } from './context.ts'
import { readCookie } from './cookies.ts'
import { absolute, requestOrigin } from './origin.ts'
import { problems, sendProblem } from './pages.ts'
import { ProviderError } from './provider-client.ts'
import { epochSeconds, logId } from './resolve.ts'
import { publicSessionId, type SessionRecord } from './session.ts'
import { SessionStoreUnavailable } from './store.ts'

export async function logout(state: RequestState, c: SessionContext): Promise<void> {
  const { origin, https } = requestOrigin(state)
  const value = readCookie(state.req.headers.cookie, c.names.session)
  const record = value !== null ? await c.keeper.load(value) : null
  if (record !== null && state.method === 'POST') {
    const failure = c.csrf.check(state.method, state.req.headers, origin, record.csrf)
    if (failure !== null) return sendProblem(state, { ...problems.csrf, reason: failure }, null)
  }
  if (record !== null) await end(c, record)
  const back = origin !== null ? absolute(c.config.post_logout_redirect, origin) : null
  let location = back ?? c.config.post_logout_redirect
  try {
    const parameters: Record<string, string> = {}
    if (record?.idToken) parameters.id_token_hint = record.idToken
    if (back !== null) parameters.post_logout_redirect_uri = back
    location = (await c.provider.endSessionUrl(parameters))?.href ?? location
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err
    c.logger.warn({ reason: err.reason }, 'session logout: the provider cannot be reached; its session stays')
  }
  state.exit(303, undefined, {
    location,
    'cache-control': 'no-store',
    'set-cookie': c.clearSessionCookies(https),
  })
}

async function end(c: SessionContext, record: SessionRecord): Promise<void> {
  await c.keeper.end(record).catch((err: unknown) => {
    // Redis down: the record expires by itself; the revocation below (or the cookie's clearing) ends it.
    if (!(err instanceof SessionStoreUnavailable)) throw err
  })
  // An ended cookie session is remembered only by this node: with shared revocations every node is told.
  if (c.revocations.backend === 'redis' && c.keeper.kind === 'cookie') await revokeEverywhere(c, record)
  c.logger.info({ session: logId(record) }, 'session ended by logout')
  if (record.refreshToken === null) return
  await c.provider.revoke(record.refreshToken).catch((err: unknown) => {
    c.logger.warn(
      { session: logId(record), reason: err instanceof ProviderError ? err.reason : 'error' },
      'session logout: refresh token not revoked',
    )
  })
}

async function revokeEverywhere(c: SessionContext, record: SessionRecord): Promise<void> {
  const ttl = Math.max(1, record.createdAt + c.lifetimes.absolute - epochSeconds())
  await c.revocations
    .revoke({ kind: 'session', id: publicSessionId(record.sid), reason: 'logout', ttl })
    .catch((err: unknown) => {
      c.logger.warn(
        { session: logId(record), err: (err as Error)?.message ?? String(err) },
        'session logout: other nodes not told (revocations unavailable); ended on this node',
      )
    })
}
