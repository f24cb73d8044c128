/**
 * From a request's session cookie to a usable session, or the reason there is none. In order: load
 * (decrypt, or look up), adopt the newer session if this cookie's refresh token was already spent, the
 * idle and absolute timeouts, the CSRF check for unsafe methods, a refresh when the access token expires
 * within `refresh_before`, and a touch (the last use, written at most every `touchEvery` seconds). Cookies
 * to set or clear are queued on the request. The cookie is never trusted beyond what it decrypts to.
 */
import type { RequestState } from '../../pipeline/request-state.ts'
import type { SessionContext } from './context.ts'
import { readCookie } from './cookies.ts'
import { type CsrfFailure, CsrfGuard } from './csrf.ts'
import { requestOrigin } from './origin.ts'
import { ProviderError } from './provider-client.ts'
import { isOver, type SessionRecord } from './session.ts'

export type NoSession =
  | 'session_none'
  | 'session_invalid'
  | 'session_expired'
  | 'session_refresh_refused'
  | 'session_token_expired'
  | 'session_cookie_too_large'

export type Resolved =
  | { readonly record: SessionRecord }
  | { readonly none: NoSession }
  | { readonly csrf: CsrfFailure }
  /** The provider could not be reached and the access token has expired: the session is kept. */
  | { readonly unavailable: string }

const NONE: Resolved = Object.freeze({ none: 'session_none' as const })

export function epochSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

export function resolveSession(
  state: RequestState,
  c: SessionContext,
  checkCsrf: boolean,
): Resolved | Promise<Resolved> {
  const value = readCookie(state.req.headers.cookie, c.names.session)
  if (value === null) return NONE
  return c.keeper.load(value).then((loaded) => settle(state, c, loaded, checkCsrf))
}

async function settle(
  state: RequestState,
  c: SessionContext,
  loaded: SessionRecord | null,
  checkCsrf: boolean,
): Promise<Resolved> {
  const now = epochSeconds()
  if (loaded === null) return ended(state, c, null, 'session_invalid')
  const newer = c.refresher.newer(loaded)
  let r = newer ?? loaded
  let changed = newer !== null
  if (isOver(r, c.lifetimes, now)) return ended(state, c, r, 'session_expired')
  if (checkCsrf && !CsrfGuard.isSafe(state.method)) {
    const failure = c.csrf.check(state.method, state.req.headers, requestOrigin(state).origin, r.csrf)
    if (failure !== null) return { csrf: failure }
  }
  const expires = r.accessExpiresAt
  if (expires !== 0 && expires - now <= c.config.refresh_before && r.refreshToken !== null) {
    try {
      r = await c.refresher.refresh(r, now)
      changed = true
    } catch (err) {
      // Logged by the refresher, once per call to the provider.
      const e = err instanceof ProviderError ? err : new ProviderError('unavailable', 'refresh_failed')
      if (e.kind === 'refused') return ended(state, c, r, 'session_refresh_refused')
      if (expires <= now) return { unavailable: e.reason }
    }
  } else if (expires !== 0 && expires <= now) return ended(state, c, r, 'session_token_expired')
  if (changed || now - r.seenAt >= c.touchEvery) {
    r = Object.freeze({ ...r, seenAt: now })
    const value = await c.keeper.save(r, false, now)
    if (value !== null) {
      const https = requestOrigin(state).https
      if (!c.fits(value)) {
        c.logger.error(
          { session: logId(r), size: c.cookieSize(value), max_size: c.config.cookie.max_size },
          'session cookie too large after a refresh; session ended (use storage: server)',
        )
        return ended(state, c, r, 'session_cookie_too_large')
      }
      c.setCookies(state, c.sessionCookies(value, r, https, now))
    }
  }
  return { record: r }
}

/** Ends what is left of a session (if anything could be read) and clears its cookies. */
async function ended(
  state: RequestState,
  c: SessionContext,
  r: SessionRecord | null,
  reason: NoSession,
): Promise<Resolved> {
  if (r !== null) await c.keeper.end(r)
  c.setCookies(state, c.clearSessionCookies(requestOrigin(state).https))
  return { none: reason }
}

/** A session's name in logs: the first characters of its random id, never a token or the cookie. */
export function logId(r: SessionRecord): string {
  return r.sid.slice(0, 8)
}
