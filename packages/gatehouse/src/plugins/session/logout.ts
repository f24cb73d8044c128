/**
 * logout_path. GET (or HEAD) only shows a confirmation page (pages.ts) whose form POSTs back here with the
 * session's CSRF token: a logout on GET could be set off by any page, with a link, a redirect or an
 * <img> (issue 15). POST ends the session at the gateway (deleted, or remembered as ended: by every node
 * when revocations are shared through Redis), clears its cookies, revokes its refresh token at the
 * provider (RFC 7009; best effort, so a provider that is down does not keep anyone signed in here), and
 * sends the browser to the provider's end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0) with
 * `id_token_hint` and `post_logout_redirect_uri`, so the provider's own session ends too; without one,
 * straight to `post_logout_redirect`.
 *
 * The POST passes the CSRF check of every unsafe method (this site's Origin, or the token: in the header,
 * or in the form's `csrf_token` field); without a session there is no token to check, and a POST another
 * site's page sent (by Origin or Sec-Fetch-Site) is refused all the same.
 */
import type { RequestState } from '../../pipeline/request-state.ts'
import type { SessionContext } from './context.ts'
import { readCookie } from './cookies.ts'
import { absolute, requestOrigin } from './origin.ts'
import { CSRF_FIELD, logoutConfirmation, problems, sendProblem } from './pages.ts'
import { ProviderError } from './provider-client.ts'
import { epochSeconds, logId } from './resolve.ts'
import { isOver, publicSessionId, type SessionRecord } from './session.ts'
import { SessionStoreUnavailable } from './store.ts'

/** Far more than the form's one field; a larger body is refused (413) rather than read. */
const FORM_LIMIT = 4096
const FORM = /^application\/x-www-form-urlencoded\s*(?:;|$)/i

export async function logout(state: RequestState, c: SessionContext): Promise<void> {
  const record = await loadSession(state, c)
  if (state.method !== 'POST') {
    const signedIn = record !== null && !c.revoked(record) && !isOver(record, c.lifetimes, epochSeconds())
    return logoutConfirmation(state, c.config, record?.csrf ?? null, signedIn ? record : null)
  }
  const { origin, https } = requestOrigin(state)
  const headers = state.req.headers
  const failure =
    record === null
      ? c.csrf.crossSite(headers, origin)
      : c.csrf.check(state.method, headers, origin, record.csrf, await formToken(state, c))
  if (failure !== null) return sendProblem(state, { ...problems.csrf, reason: failure }, null)
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

/**
 * The session the cookie names, ended or not (a logout ends what is left of it). A store that cannot be
 * reached counts as none: the cookie is still cleared, and the stored record lives until it expires.
 */
async function loadSession(state: RequestState, c: SessionContext): Promise<SessionRecord | null> {
  const value = readCookie(state.req.headers.cookie, c.names.session)
  if (value === null) return null
  return c.keeper.load(value).catch((err: unknown) => {
    if (!(err instanceof SessionStoreUnavailable)) throw err
    return null
  })
}

/** The token in a form-encoded body, read only when the header does not carry one and it may count. */
async function formToken(state: RequestState, c: SessionContext): Promise<string | undefined> {
  const headers = state.req.headers
  if (c.config.csrf.check === 'origin' || headers[c.csrf.header] !== undefined) return undefined
  if (!FORM.test(headers['content-type'] ?? '')) return undefined
  const body = await state.readBody(FORM_LIMIT)
  return new URLSearchParams(body.toString('latin1')).get(CSRF_FIELD) ?? undefined
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
