/**
 * Config of the session plugin: the OpenID provider and client the gateway signs browsers in with, the
 * paths it answers itself, where sessions are kept and for how long, and the CSRF rule. Checked once at
 * load; cross-field rules are in the `superRefine` at the end.
 */
import { z } from 'zod'
import { requireSchema } from '../_shared/step-up.ts'
import { trustedUrl } from '../_shared/trusted-url.ts'

/** A path the plugin answers itself: absolute, no query, no fragment, no dot segments. */
const ownPath = (name: string, fallback: string) =>
  z
    .string()
    .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, {
      error: 'must be an absolute path such as /login (no query or fragment)',
    })
    .refine((p) => !/(^|\/)\.\.?(\/|$)/.test(p), { error: 'must not contain . or .. segments' })
    .default(fallback)
    .describe(`${name} Default: \`${fallback}\`.`)

/** Where the browser goes next: a path on this site, or an absolute http(s) URL. */
const destination = (name: string) =>
  z
    .string()
    .refine((d) => isLocalPath(d) || /^https?:\/\//i.test(d), {
      error: 'must be a path on this site (such as /account) or an absolute http(s) URL',
    })
    .refine((d) => !isLocalPath(d) || URL.canParse(d, 'http://x'), { error: 'is not a valid path' })
    .default('/')
    .describe(name)

/** `/x`, not `//host` or `/\host` (which browsers treat as another host). */
export function isLocalPath(path: string): boolean {
  return /^\/(?![/\\])[\x21-\x5b\x5d-\x7e]*$/.test(path)
}

const cookieName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, {
  error: 'must be a cookie name (RFC 6265 token, at most 64 characters)',
})

const origin = z
  .url({ protocol: /^https?$/, error: 'expected an origin such as https://shop.example' })
  .refine((u) => URL.canParse(u) && new URL(u).origin === u.replace(/\/$/, ''), {
    error: 'must be an origin: scheme, host and port only, such as https://shop.example',
  })

export const DEFAULT_SCOPES = ['openid', 'profile', 'offline_access'] as const

export const sessionSchema = z
  .strictObject({
    issuer: trustedUrl().describe(
      "The OpenID provider browsers sign in with, e.g. `https://id.shop.example` or Gatehouse's own issuer (`http://127.0.0.1:8000/auth`); its endpoints are found through `<issuer>/.well-known/openid-configuration` on first use. Plain http only on loopback.",
    ),
    client_id: z
      .string()
      .regex(/^[\x21-\x7e]{1,255}$/, { error: 'must be 1-255 printable ASCII characters' })
      .describe('The client the gateway is at the provider (a confidential client: the gateway is the BFF).'),
    client_secret: z
      .string()
      .min(1, { error: 'must not be empty' })
      .describe(
        'The client secret (use `{vault://env/NAME}`), sent to the token and revocation endpoints with HTTP Basic (client_secret_basic).',
      ),
    scopes: z
      .array(
        z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'expected a scope token (RFC 6749 §3.3)' }),
      )
      .min(1)
      .max(64)
      .default([...DEFAULT_SCOPES])
      .describe(
        'Scopes asked for at sign-in; must include `openid`. `offline_access` asks for a refresh token that outlives the provider session. Default: `[openid, profile, offline_access]`.',
      ),
    resource: z
      .url({ error: 'expected an absolute URL (RFC 8707 resource indicator)' })
      .optional()
      .describe(
        'Resource indicator (RFC 8707) sent at sign-in and refresh, so the access token is issued for that API, e.g. `https://api.shop.example`. Default: unset (the provider decides).',
      ),
    redirect_uri: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .optional()
      .describe(
        'The redirect URI registered at the provider; its path must be `callback_path`. Default: derived from each request: the scheme and host the browser used (behind trusted proxies, X-Forwarded-Proto and -Host) + `callback_path`.',
      ),
    login_path: ownPath(
      'GET starts a sign-in: redirects to the provider with PKCE (S256), state and nonce. `?return_to=/path` (a path on this site) is where the browser ends up.',
      '/login',
    ),
    callback_path: ownPath(
      "Where the provider sends the browser back (the redirect URI's path): the code is exchanged and the session created.",
      '/callback',
    ),
    logout_path: ownPath(
      "POST ends the session here and at the provider (RP-initiated logout), revoking the refresh token, then goes on to `post_logout_redirect`; it passes the CSRF check of every unsafe method (this site's Origin, or the token in `csrf.header_name` or a `csrf_token` form field), and a POST from another site is refused (403) even without a session. GET only shows a confirmation page whose button makes that POST, so no link, redirect or image on another page can log anyone out.",
      '/logout',
    ),
    session_info_path: ownPath(
      'GET answers `{ authenticated, subject, name, email, csrf_token, expires_at }` as JSON (never a token), for the page to show who is signed in.',
      '/session',
    ),
    redirect_navigations: z
      .boolean()
      .default(true)
      .describe(
        'Where a session is required (neither `anonymous` nor `optional`): a page navigation without a usable session (a GET or HEAD with `Sec-Fetch-Mode: navigate`, or, from a browser without Fetch Metadata, an Accept naming text/html) is redirected (302) to `login_path?return_to=<its path and query>` and comes back there after signing in, instead of 401. Calls from scripts (fetch, XHR) and API clients still get 401 JSON. `false`: always 401. Default: true.',
      ),
    post_login_redirect: destination(
      'Where the browser goes after signing in when /login had no `return_to`. Default: `/`.',
    ),
    post_logout_redirect: destination(
      'Where the provider sends the browser after logout (`post_logout_redirect_uri`, made absolute like redirect_uri; it must be registered at the provider), or where the gateway sends it when the provider has no end_session_endpoint. Default: `/`.',
    ),
    storage: z
      .enum(['cookie', 'server', 'redis'])
      .default('cookie')
      .describe(
        "`cookie`: the session (tokens included) is encrypted into the cookie, nothing is kept at the gateway and any node can read it; `server`: the cookie holds only a random id and the session is kept in this process (sessions are lost on restart and not shared between nodes); `redis`: the cookie holds only a random id and the session, encrypted, is kept in the top-level `redis` section's Redis, shared by every node (a logout on one ends it on all). Default: `cookie`.",
      ),
    on_store_failure: z
      .enum(['no_session', 'error'])
      .default('no_session')
      .describe(
        'With `storage: redis`, when Redis cannot be reached (logged, throttled): `no_session` treats the request as having no session (401, or the `anonymous`/`optional` fallback), keeping the cookie so the session is back with Redis; `error` answers 503 `GH_ERR_SESSION_STORE_UNAVAILABLE`. Either way nothing is let in unauthenticated. Default: `no_session`.',
      ),
    secret: z
      .string()
      .min(32, { error: 'must be at least 32 characters (openssl rand -base64 32)' })
      .describe(
        'Root secret (use `{vault://env/NAME}`): session and sign-in cookies are encrypted (JWE dir + A256GCM) with keys derived from it (HKDF-SHA256). Changing it ends every session.',
      ),
    cookie: z
      .strictObject({
        name: cookieName.default('gh_session').describe('Session cookie name. Default: `gh_session`.'),
        same_site: z
          .enum(['Strict', 'Lax', 'None'])
          .default('Lax')
          .describe(
            'SameSite of the session cookie. `Lax` keeps it off cross-site POSTs and subresource requests; `None` needs `secure: true`. Default: `Lax`.',
          ),
        secure: z
          .union([z.literal('auto'), z.boolean()])
          .default('auto')
          .describe(
            '`auto`: Secure when the request came over https (behind trusted proxies, X-Forwarded-Proto); true or false to force. Default: `auto`.',
          ),
        max_size: z
          .int()
          .min(1024)
          .max(8192)
          .default(4000)
          .describe(
            'Largest session cookie (name and value, in bytes) with `storage: cookie`; a sign-in whose tokens do not fit is refused (`GH_ERR_SESSION_TOO_LARGE`): keep sessions at the gateway instead, with `storage: redis` on several nodes or `storage: server` on one. Default: 4000.',
          ),
      })
      .prefault({})
      .describe(
        'The session cookie: always HttpOnly, Path=/, host-only. The sign-in cookie (`<name>_login`) is HttpOnly, SameSite=Lax and scoped to `callback_path`.',
      ),
    idle_timeout: z
      .int()
      .min(60)
      .max(31_536_000)
      .default(1800)
      .describe('Seconds without a request before a session ends (60..31536000). Default: 1800.'),
    absolute_timeout: z
      .int()
      .min(60)
      .max(31_536_000)
      .default(86_400)
      .describe(
        'Seconds after sign-in a session ends whatever its use (60..31536000); the browser signs in again. Default: 86400.',
      ),
    refresh_before: z
      .int()
      .min(0)
      .max(86_400)
      .default(60)
      .describe(
        'Seconds before the access token expires that a request refreshes it with the refresh token (the new refresh token replaces the old); concurrent requests share one refresh. A failed refresh ends the session. Default: 60.',
      ),
    login_timeout: z
      .int()
      .min(30)
      .max(3600)
      .default(600)
      .describe('Seconds a sign-in may take, from /login to /callback (30..3600). Default: 600.'),
    timeout: z
      .int()
      .min(1)
      .max(60)
      .default(10)
      .describe(
        'Seconds a request to the provider (discovery, token, revocation, userinfo) may take. Default: 10.',
      ),
    csrf: z
      .strictObject({
        check: z
          .enum(['origin-or-token', 'origin', 'token'])
          .default('origin-or-token')
          .describe(
            'What an unsafe request (POST, PUT, PATCH, DELETE) carrying a session must show, else 403: `origin-or-token`: an Origin (or, without one, Referer) of this site or `allowed_origins`, or the CSRF token in `header_name`; `origin`: only the former; `token`: only the latter. Default: `origin-or-token`.',
          ),
        allowed_origins: z
          .array(origin)
          .max(64)
          .default([])
          .describe(
            "Other origins whose pages may send unsafe requests with the session, e.g. `https://shop.example` when the API has its own host. Default: none (only the request's own origin).",
          ),
        header_name: z
          .string()
          .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'must be an HTTP header name' })
          .default('X-CSRF-Token')
          .describe('Header carrying the CSRF token. Default: `X-CSRF-Token`.'),
        cookie_name: cookieName
          .default('gh_csrf')
          .describe(
            "Cookie giving the page the session's CSRF token (readable by scripts, not HttpOnly; double-submit): send it back in `header_name`. Also in the session info. Default: `gh_csrf`.",
          ),
      })
      .prefault({})
      .describe('Cross-site request forgery protection for requests made with the session cookie.'),
    require: requireSchema.describe(
      "Step-up (RFC 9470): how the person must have signed in for this route, checked against the `acr`, `amr` and `auth_time` of the ID token the session was made from (a refresh keeps them). A page load whose session lacks it is sent through the provider again (login_path with `acr_values`, `amr` and `max_age`, which makes the provider sign the person in again when the sign-in is too old) and comes back with the stronger session; a script's call gets 401 `insufficient_user_authentication` (`GH_ERR_AUTH_STEP_UP_REQUIRED`) with `acr_values` and `max_age` in WWW-Authenticate and a `login` link in the body. A session that lacks it is refused whatever `anonymous` or `optional` say. Default: unset.",
    ),
    anonymous: z
      .string()
      .min(1, { error: 'must not be empty' })
      .optional()
      .describe(
        'Consumer (id, username or custom_id) that requests without a usable session continue as, which makes several auth plugins a logical OR (a request another auth plugin identified passes). Must exist. Default: unset.',
      ),
    optional: z
      .boolean()
      .default(false)
      .describe(
        'Let requests without a usable session through with no caller (the upstream decides), instead of 401. Default: false.',
      ),
  })
  .superRefine((config, ctx) => {
    if (!config.scopes.includes('openid'))
      ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'must include openid' })
    if (config.anonymous !== undefined && config.optional)
      ctx.addIssue({
        code: 'custom',
        path: ['optional'],
        message: 'cannot be set together with anonymous: choose one way to let requests without a session in',
      })
    if (config.idle_timeout > config.absolute_timeout)
      ctx.addIssue({ code: 'custom', path: ['idle_timeout'], message: 'must not exceed absolute_timeout' })
    const paths = ['login_path', 'callback_path', 'logout_path', 'session_info_path'] as const
    const seen = new Map<string, string>()
    for (const key of paths) {
      const other = seen.get(config[key])
      if (other !== undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `is the same path as ${other}` })
      seen.set(config[key], key)
    }
    if (config.redirect_uri !== undefined && URL.canParse(config.redirect_uri)) {
      const url = new URL(config.redirect_uri)
      if (url.pathname !== config.callback_path)
        ctx.addIssue({
          code: 'custom',
          path: ['redirect_uri'],
          message: `its path must be callback_path (${config.callback_path})`,
        })
      if (url.search !== '' || url.hash !== '')
        ctx.addIssue({ code: 'custom', path: ['redirect_uri'], message: 'must have no query or fragment' })
    }
    const { cookie } = config
    if (cookie.same_site === 'None' && cookie.secure !== true)
      ctx.addIssue({
        code: 'custom',
        path: ['cookie', 'secure'],
        message: 'must be true with same_site None (browsers refuse such cookies otherwise)',
      })
    if (/^__(Host|Secure)-/.test(cookie.name) && cookie.secure !== true)
      ctx.addIssue({
        code: 'custom',
        path: ['cookie', 'secure'],
        message: `must be true for a cookie named ${cookie.name.slice(0, cookie.name.indexOf('-') + 1)}… (browsers refuse it otherwise)`,
      })
    if (config.csrf.cookie_name === cookie.name || config.csrf.cookie_name === `${cookie.name}_login`)
      ctx.addIssue({
        code: 'custom',
        path: ['csrf', 'cookie_name'],
        message: 'must differ from the session cookie and its sign-in cookie',
      })
  })
  .describe(
    'Signs browsers in at the gateway (backend-for-frontend): the authorization code flow with PKCE against an OpenID provider, tokens kept server-side or in an encrypted cookie and refreshed before they expire, CSRF checks, logout at the gateway and the provider. Requests with the session cookie are authenticated like bearer calls.',
  )

export type SessionConfig = z.output<typeof sessionSchema>
