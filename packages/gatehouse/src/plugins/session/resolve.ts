/**
 * From a request's session cookie to a usable session, or the reason there is none. In order: load
 * (decrypt, or look up), revocation (the session or its subject, issue 7), adopt the newer session if
 * this cookie's refresh token was already spent, the idle and absolute timeouts, the CSRF check for unsafe
 * methods, a refresh when the access token expires within `refresh_before`, and a touch (the last use,
 * written at most every `touchEvery` seconds). Cookies to set or clear are queued on the request. The
 * cookie is never trusted beyond what it decrypts to.
 *
 * A store that cannot be reached (Redis down) is no session, but not an ended one: the cookie stays, so
 * the session is back with the store. A touch it cannot write is skipped; the request goes on.
 */
import type { RequestState } from '../../pipeline/request-state.ts'
import type { SessionContext } from './context.ts'
import { readCookie } from './cookies.ts'
import { type CsrfFailure, CsrfGuard } from './csrf.ts'
import { requestOrigin } from './origin.ts'
import { ProviderError } from './provider-client.ts'
import { isOver, publicSessionId, type SessionRecord } from './session.ts'
import { SessionStoreUnavailable } from './store.ts'

export type NoSession =
  | 'session_none'
  | 'session_invalid'
  | 'session_expired'
  | 'session_refresh_refused'
  | 'session_token_expired'
  | 'session_cookie_too_large'
  | 'session_revoked'
  | 'session_store_unavailable'

export type Resolved =
  | { readonly record: SessionRecord }
  | { readonly none: NoSession }
  | { readonly csrf: CsrfFailure }
  /** The provider could not be reached and the access token has expired: the session is kept. */
  | { readonly unavailable: string }

const NONE: Resolved = Object.freeze({ none: 'session_none' as const })
const STORE_UNAVAILABLE: Resolved = Object.freeze({ none: 'session_store_unavailable' as const })

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
  // Only while the node's first look at the shared revocations is under way (its first requests).
  const loading = c.revocations.settled()
  if (loading !== undefined) return loading.then(() => resolveSession(state, c, checkCsrf))
  return c.keeper.load(value).then(
    (loaded) => settle(state, c, loaded, checkCsrf),
    (err: unknown) => {
      if (err instanceof SessionStoreUnavailable) return STORE_UNAVAILABLE
      throw err
    },
  )
}

async function settle(
  state: RequestState,
  c: SessionContext,
  loaded: SessionRecord | null,
  checkCsrf: boolean,
): Promise<Resolved> {
  const now = epochSeconds()
  if (loaded === null) return ended(state, c, null, 'session_invalid')
  if (c.revoked(loaded)) {
    c.logger.info({ session: logId(loaded) }, 'revoked session ended')
    return ended(state, c, loaded, 'session_revoked')
  }
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
    if (state.dryRun !== null)
      state.dryRun.note(
        'refresh',
        expires <= now
          ? 'the access token has expired: a real request refreshes it at the provider now, and passes if the provider agrees; not asked in a dry run'
          : 'the access token expires within refresh_before: a real request refreshes it now; not done in a dry run',
      )
    else
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
  // A dry run leaves the session as it was: no touch, no cookie.
  if (state.dryRun === null && (changed || now - r.seenAt >= c.touchEvery)) {
    r = Object.freeze({ ...r, seenAt: now })
    const value = await c.keeper.save(r, false, now).catch((err: unknown) => {
      // Logged by the store. A refreshed record not written is still this node's for a minute (refresh.ts).
      if (err instanceof SessionStoreUnavailable) return null
      throw err
    })
    if (value !== null) {
      const https = requestOrigin(state).https
      if (!c.fits(value)) {
        c.logger.error(
          { session: logId(r), size: c.cookieSize(value), max_size: c.config.cookie.max_size },
          'session cookie too large after a refresh; session ended (use storage: redis, or server on one node)',
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
  if (state.dryRun !== null) {
    state.dryRun.note('session', `${reason}: a real request ends what is left of it and clears its cookies`)
    return { none: reason }
  }
  if (r !== null)
    await c.keeper.end(r).catch((err: unknown) => {
      // The store is down: its record expires by itself, and the cookie is cleared anyway.
      if (!(err instanceof SessionStoreUnavailable)) throw err
    })
  c.setCookies(state, c.clearSessionCookies(requestOrigin(state).https))
  return { none: reason }
}

/** A session's name in logs: its public id (what POST /revocations takes), never a token or the cookie. */
export function logId(r: SessionRecord): string {
  return publicSessionId(r.sid)
}
