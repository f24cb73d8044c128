/**
 * GET session_info_path: who is signed in, for the page to show, as JSON that never holds a token:
 * `{ authenticated: true, subject, name, email, csrf_token, expires_at, session_id, acr, amr, auth_time }`
 * (expires_at: epoch seconds when the session ends unless used again; acr, amr, auth_time: how the person
 * signed in, null when the provider did not say; session_id: the public id, for support and `POST
 * /revocations`, never the cookie), or `{ authenticated: false }` (200 either way: not being signed in
 * is an answer, not an error). Counts as a use of the session, and sets the CSRF cookie again.
 */
import { GatehouseError } from '../../errors/errors.ts'
import type { RequestState } from '../../pipeline/request-state.ts'
import { exitWithError } from '../../pipeline/respond.ts'
import type { SessionContext } from './context.ts'
import { requestOrigin } from './origin.ts'
import { epochSeconds, type Resolved } from './resolve.ts'
import { endsAt, publicSessionId } from './session.ts'

const HEADERS = { 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' }
const UNREACHABLE = 'The sign-in service cannot be reached'

export function sessionInfo(state: RequestState, c: SessionContext, resolved: Resolved): void {
  if (!('record' in resolved)) {
    if ('unavailable' in resolved) {
      const err = new GatehouseError('GH_ERR_AUTH_PROVIDER_UNAVAILABLE', UNREACHABLE, {
        detail: 'session_provider_unavailable',
      })
      exitWithError(state, err, 502, { authenticated: false, message: UNREACHABLE }, HEADERS)
      return
    }
    state.exit(200, { authenticated: false }, HEADERS)
    return
  }
  const r = resolved.record
  c.setCookies(state, [c.csrfCookie(r, requestOrigin(state).https, epochSeconds())])
  state.exit(
    200,
    {
      authenticated: true,
      subject: r.sub,
      name: r.name,
      email: r.email,
      csrf_token: r.csrf,
      expires_at: endsAt(r, c.lifetimes),
      session_id: publicSessionId(r.sid),
      acr: r.auth.acr,
      amr: r.auth.amr,
      auth_time: r.auth.authTime,
    },
    HEADERS,
  )
}
