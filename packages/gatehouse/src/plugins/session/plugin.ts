/**
 * session: the gateway signs browsers in (backend-for-frontend, issue 6). The browser holds only an
 * HttpOnly cookie; the provider's tokens stay at the gateway (storage: server, in this process; storage:
 * redis, shared by every node) or sealed in that cookie (storage: cookie), and requests made with it are
 * authenticated like bearer calls, so the same internal token reaches the upstream.
 * - Its own paths: login_path starts the code flow with PKCE (login.ts), callback_path completes it
 *   (callback.ts), logout_path ends the session here and at the provider on POST, and only asks to
 *   confirm on GET (logout.ts), session_info_path says who is signed in (session-info.ts). They must reach a route this plugin applies to (a route
 *   without a service will do: the plugin answers them itself).
 * - Every other request: the session is loaded, checked against revocations and its timeouts, unsafe
 *   methods CSRF-checked, the access token refreshed ahead of its expiry (resolve.ts); the caller is
 *   then identified with Kong's headers and `state.principal` (method `session`), the access token being
 *   the principal's token for internal-token's `forward` mode. The plugin's cookies never reach the
 *   upstream.
 * - A session that does not meet the route's `require` (step-up, issue 14, step-up.ts): a page navigation
 *   is sent to login_path asking the provider for it (`acr_values`, `max_age`) and comes back; a script's
 *   call gets RFC 9470's 401 `insufficient_user_authentication` challenge. Whatever `anonymous` or
 *   `optional` say: the person is signed in, and going on without them would drop who they are.
 * - Without a usable session: the `anonymous` consumer, or no caller with `optional`, else 401, or for a
 *   page navigation a redirect to login_path that comes back (navigation.ts); a cookie that does not open
 *   (tampered, expired, ended, revoked) is cleared. A CSRF failure is 403 whatever the fallback. A
 *   session store that cannot be reached counts as no session (the cookie kept), or 503 with
 *   `on_store_failure: error`.
 */
import { GatehouseError } from '../../errors/errors.ts'
import {
  anonymousConsumer,
  authenticateAnonymously,
  identifiedByEarlierPlugin,
  refuse,
} from '../../pipeline/authenticate.ts'
import type { RequestState } from '../../pipeline/request-state.ts'
import { exitWithError } from '../../pipeline/respond.ts'
import { acquireRevocations } from '../../redis/revocation-leases.ts'
import { consumersByName, identify } from '../_shared/caller.ts'
import { withoutCookies } from '../_shared/conceal.ts'
import { challengeParams, UNMET_DESCRIPTIONS, unmet } from '../_shared/step-up.ts'
import type { GatewayPlugin } from '../types.ts'
import { completeLogin } from './callback.ts'
import { SessionContext } from './context.ts'
import { appendSetCookie, withoutSetCookies } from './cookies.ts'
import { startLogin } from './login.ts'
import { logout } from './logout.ts'
import { isNavigation, loginLocation } from './navigation.ts'
import { type Resolved, resolveSession } from './resolve.ts'
import { type SessionConfig, sessionSchema } from './schema.ts'
import type { SessionRecord } from './session.ts'
import { sessionInfo } from './session-info.ts'
import { stepUpLocation, stepUpQuery } from './step-up.ts'

const UNAVAILABLE = { message: 'The sign-in service cannot be reached; try again shortly' }
const CSRF = { message: 'Cross-site request refused: send the CSRF token or make the request from this site' }
const STORE_UNAVAILABLE = { message: 'Sessions cannot be read right now; try again shortly' }
const RETRY = { 'retry-after': '1' }
// The answer depends on what kind of request this is (a 302 for a page, a 401 for a script).
const NAVIGATION_HEADERS = { 'cache-control': 'no-store', vary: 'Sec-Fetch-Mode, Accept' }

/**
 * The `session` plugin (priority 1900, Kong's session plugin's place: before every other auth plugin).
 *
 * @example
 * ```yaml
 * routes:
 *   - name: browser                              # the plugin answers these itself
 *     paths: [/login, /callback, /logout, /session]
 * plugins:
 *   - name: session                              # global: every route accepts the session cookie
 *     config:
 *       issuer: https://id.shop.example
 *       client_id: shop-web
 *       client_secret: "{vault://env/SHOP_WEB_SECRET}"
 *       secret: "{vault://env/SESSION_SECRET}"
 *       resource: https://api.shop.example
 *   - name: internal-token
 *     route: orders
 *     config: { audience: orders }
 * ```
 */
export const plugin: GatewayPlugin<SessionConfig> = {
  name: 'session',
  version: '1.0.0',
  priority: 1900,
  band: 'authentication',
  description:
    'Signs browsers in at the gateway (OIDC code flow + PKCE) and authenticates their requests by an HttpOnly session cookie, with CSRF checks.',
  schema: sessionSchema,
  scopes: { consumer: false },
  requestHeaders: (config) => [{ key: 'csrf.header_name', name: config.csrf.header_name }],
  create(config, ctx) {
    const anonymous = anonymousConsumer(config.anonymous, (reference) => ctx.findConsumer(reference))
    const consumers = ctx.memo('consumers-by-name', () => consumersByName(ctx.consumers.values()))
    const lease = acquireRevocations(ctx.redis, ctx.logger)
    const c = new SessionContext(config, ctx.logger, anonymous, consumers, ctx.memo, {
      redis: ctx.redis,
      revocations: lease.revocations,
    })
    const own = [c.names.session, c.names.login, c.names.csrf]
    const ownPaths: [string, string][] = [
      [config.login_path, 'login_path: the sign-in starts'],
      [config.callback_path, 'callback_path: the sign-in completes'],
      [config.logout_path, 'logout_path: the session ends'],
      [config.session_info_path, 'session_info_path: who is signed in'],
    ]
    const noSessionBody = { message: 'Unauthorized', login: config.login_path }
    const challenge = { 'www-authenticate': 'Session' }

    const requirement = config.require
    /** Refuses a session that lacks the route's `require`: true when it did. */
    const stepUp = (state: RequestState, record: SessionRecord): boolean => {
      if (requirement === undefined) return false
      const why = unmet(requirement, record.auth, Math.floor(Date.now() / 1000))
      if (why === null) return false
      const description = UNMET_DESCRIPTIONS[why]
      state.dryRun?.note('session', `the session does not meet require (${why}): step-up`)
      if (config.redirect_navigations && isNavigation(state.method, state.req.headers)) {
        state.error = new GatehouseError('GH_ERR_AUTH_STEP_UP_REQUIRED', 'sent to sign in again (step-up)', {
          detail: `session_step_up_${why}`,
        })
        state.exit(302, undefined, {
          location: stepUpLocation(state, config.login_path, requirement),
          ...NAVIGATION_HEADERS,
        })
        return true
      }
      // RFC 9470 §3; `login` is where a page sends the browser for the step-up (adding its own return_to).
      const body = {
        error: 'insufficient_user_authentication',
        error_description: description,
        message: description,
        login: `${config.login_path}?${stepUpQuery(requirement, null)}`,
      }
      const headers = {
        'www-authenticate': `Bearer ${challengeParams(requirement, why)}`,
        ...NAVIGATION_HEADERS,
      }
      refuse(state, 401, body, headers, 'GH_ERR_AUTH_STEP_UP_REQUIRED', `session_step_up_${why}`)
      return true
    }

    const settle = (state: RequestState, resolved: Resolved): void => {
      if ('record' in resolved) {
        if (stepUp(state, resolved.record)) return
        identify(state, c.caller(resolved.record), consumers.get(resolved.record.sub))
        return
      }
      if ('csrf' in resolved) {
        refuse(state, 403, CSRF, undefined, 'GH_ERR_AUTH_ACCESS_DENIED', resolved.csrf)
        return
      }
      if ('unavailable' in resolved) {
        refuse(
          state,
          502,
          UNAVAILABLE,
          undefined,
          'GH_ERR_AUTH_PROVIDER_UNAVAILABLE',
          'session_provider_unavailable',
        )
        return
      }
      if (resolved.none === 'session_store_unavailable' && config.on_store_failure === 'error') {
        refuse(
          state,
          503,
          STORE_UNAVAILABLE,
          RETRY,
          'GH_ERR_SESSION_STORE_UNAVAILABLE',
          'session_store_unavailable',
        )
        return
      }
      if (anonymous !== null) {
        authenticateAnonymously(state, anonymous, resolved.none)
        return
      }
      if (config.optional) {
        state.dryRun?.note(
          'session',
          `none (${resolved.none}); optional: the request goes on without a caller`,
        )
        return
      }
      const code =
        resolved.none === 'session_none'
          ? 'GH_ERR_AUTH_CREDENTIALS_MISSING'
          : 'GH_ERR_AUTH_CREDENTIALS_INVALID'
      if (config.redirect_navigations && isNavigation(state.method, state.req.headers)) {
        // A redirect, not an error answer (no error body or X-Gatehouse-Error); the log still says why.
        state.error = new GatehouseError(code, 'sent to the login page', { detail: resolved.none })
        state.exit(302, undefined, {
          location: loginLocation(state, config.login_path),
          ...NAVIGATION_HEADERS,
        })
      } else refuse(state, 401, noSessionBody, challenge, code, resolved.none)
    }

    /**
     * Requests for the plugin's own paths; false when the path is not one of them. A dry run runs none
     * of them: each would start, complete or end a sign-in, or read the session (refreshing it).
     */
    const ownPath = (state: RequestState): Promise<void> | false | undefined => {
      const { path, method } = state
      if (state.dryRun !== null) {
        const own = ownPaths.find(([p]) => p === path)
        if (own === undefined) return false
        state.dryRun.wouldAnswer(`the plugin answers its ${own[1]} (${path}) itself; not run in a dry run`)
        return undefined
      }
      const get = method === 'GET' || method === 'HEAD'
      if (path === config.login_path) return get ? startLogin(state, c) : notAllowed(state, 'GET, HEAD')
      // GET only: a HEAD (a prefetch) must not spend the one-time code.
      if (path === config.callback_path)
        return method === 'GET' ? completeLogin(state, c) : notAllowed(state, 'GET')
      if (path === config.logout_path)
        return get || method === 'POST' ? logout(state, c) : notAllowed(state, 'GET, HEAD, POST')
      if (path === config.session_info_path) {
        if (!get) return notAllowed(state, 'GET, HEAD')
        return Promise.resolve(resolveSession(state, c, false))
          .catch((err: unknown): Resolved => {
            c.logger.error({ error: (err as Error)?.message ?? String(err) }, 'session failed unexpectedly')
            return { none: 'session_invalid' }
          })
          .then((r) => sessionInfo(state, c, r))
      }
      return false
    }

    return {
      // The logout form's body, for its CSRF token (logout.ts).
      readsBody: (state) => state.method === 'POST' && state.path === config.logout_path,
      access(state) {
        const cookie = state.upstreamHeaders.cookie
        if (cookie !== undefined) {
          const kept = withoutCookies(Array.isArray(cookie) ? cookie.join('; ') : cookie, own)
          if (kept === null) delete state.upstreamHeaders.cookie
          else state.upstreamHeaders.cookie = kept
        }
        const answered = ownPath(state)
        if (answered !== false) return answered
        if (anonymous !== null && identifiedByEarlierPlugin(state)) return
        const resolved = resolveSession(state, c, true)
        if (!(resolved instanceof Promise)) return settle(state, resolved)
        return resolved.then(
          (r) => settle(state, r),
          (err: unknown) => {
            ctx.logger.error({ error: (err as Error)?.message ?? String(err) }, 'session failed unexpectedly')
            settle(state, { none: 'session_invalid' })
          },
        )
      },
      response(state) {
        const response = state.response
        if (response === null) return
        const upstream = response.headers['set-cookie']
        if (upstream !== undefined && !state.exited) {
          const kept = withoutSetCookies(upstream, own)
          if (kept.length === 0) delete response.headers['set-cookie']
          else response.headers['set-cookie'] = kept
        }
        const lines = c.takeCookies(state)
        if (lines !== undefined) appendSetCookie(response.headers, lines)
      },
      async close() {
        await Promise.all([lease.release(), c.sharedStore?.close(), c.sharedRefresh?.close()])
      },
    }
  },
}

function notAllowed(state: RequestState, allow: string): undefined {
  const err = new GatehouseError('GH_ERR_ENDPOINT_METHOD_NOT_ALLOWED', 'Method not allowed', {
    detail: 'session_method_not_allowed',
  })
  exitWithError(state, err, 405, undefined, { allow })
  return undefined
}
