/**
 * The few pages the plugin shows a browser itself: when a sign-in cannot go on (expired, cancelled,
 * refused, the provider unreachable, a session too large for its cookie), with a link to start again, and
 * the logout confirmation. In the identity provider's page shell (no script, strict CSP, no framing, no
 * caching). Never a 500 for what a browser or the provider did; each problem records a GH_ERR_* code and
 * a stable reason for the access log.
 */
import type { GatehouseErrorCode } from '../../errors/errors.ts'
import { html } from '../../identity/views/html.ts'
import { PAGE_HEADERS, renderPage } from '../../identity/views/page.ts'
import { refuse } from '../../pipeline/authenticate.ts'
import type { RequestState } from '../../pipeline/request-state.ts'
import type { SessionConfig } from './schema.ts'
import type { SessionRecord } from './session.ts'

export interface Problem {
  readonly status: number
  readonly code: GatehouseErrorCode
  /** Stable, for the access log. */
  readonly reason: string
  readonly title: string
  readonly message: string
}

const problem = (
  status: number,
  code: GatehouseErrorCode,
  reason: string,
  title: string,
  message: string,
): Problem => Object.freeze({ status, code, reason, title, message })

export const problems = {
  loginExpired: problem(
    400,
    'GH_ERR_REQUEST_INVALID',
    'session_login_expired',
    'Sign-in expired',
    'This sign-in took too long or was started in another window. Please sign in again.',
  ),
  stateMismatch: problem(
    400,
    'GH_ERR_REQUEST_INVALID',
    'session_state_mismatch',
    'Sign-in not recognised',
    'This sign-in does not match the one this browser started. Please sign in again.',
  ),
  denied: problem(
    403,
    'GH_ERR_AUTH_ACCESS_DENIED',
    'session_provider_denied',
    'Sign-in cancelled',
    'The sign-in was cancelled or not allowed.',
  ),
  providerError: problem(
    400,
    'GH_ERR_REQUEST_INVALID',
    'session_provider_error',
    'Sign-in failed',
    'The identity provider could not complete the sign-in.',
  ),
  refused: problem(
    401,
    'GH_ERR_AUTH_CREDENTIALS_INVALID',
    'session_code_refused',
    'Sign-in failed',
    'The sign-in could not be completed. Please sign in again.',
  ),
  unavailable: problem(
    502,
    'GH_ERR_AUTH_PROVIDER_UNAVAILABLE',
    'session_provider_unavailable',
    'Sign-in unavailable',
    'The sign-in service cannot be reached right now. Please try again shortly.',
  ),
  noOrigin: problem(
    400,
    'GH_ERR_REQUEST_INVALID',
    'session_no_origin',
    'Sign-in unavailable',
    'The request does not say which site it is for (a Host header is missing or malformed).',
  ),
  tooLarge: problem(
    500,
    'GH_ERR_SESSION_TOO_LARGE',
    'session_cookie_too_large',
    'Session cannot be stored',
    'You signed in, but your session is too large to keep in a browser cookie. The site’s operator can keep sessions at the gateway instead (session plugin, storage: redis or server).',
  ),
  badStepUp: problem(
    400,
    'GH_ERR_REQUEST_INVALID',
    'session_step_up_invalid',
    'Sign-in not possible',
    'This sign-in link asks for a stronger sign-in in a form that is not understood (acr_values, amr, max_age or prompt).',
  ),
  stepUpUnmet: problem(
    403,
    'GH_ERR_AUTH_STEP_UP_FAILED',
    'session_step_up_unmet',
    'Stronger sign-in needed',
    'This page needs a stronger or more recent sign-in than the one just completed (for example a second factor). Sign in again with it, or ask the site’s operator.',
  ),
  stepUpRefused: problem(
    403,
    'GH_ERR_AUTH_STEP_UP_FAILED',
    'session_step_up_refused',
    'Stronger sign-in not possible',
    'The identity provider could not give the stronger sign-in this page needs (for example, no second factor is set up for this account).',
  ),
  csrf: problem(
    403,
    'GH_ERR_AUTH_ACCESS_DENIED',
    'session_csrf',
    'Request refused',
    'This request did not come from a page of this site.',
  ),
} as const

/** The logout form's field for the CSRF token (a form cannot send the header). */
export const CSRF_FIELD = 'csrf_token'

/** Ends the request with `p` as a page, and a link to `retry` (the login path) when given. */
export function sendProblem(state: RequestState, p: Problem, retry: string | null, headers = {}): void {
  const body = html`<h1>${p.title}</h1><p role="alert">${p.message}</p>${
    retry !== null ? html`<p><a href="${retry}">Sign in again</a></p>` : ''
  }`
  refuse(state, p.status, renderPage(p.title, body), { ...PAGE_HEADERS, ...headers }, p.code, p.reason)
}

/**
 * The page a GET of logout_path shows: one button whose form POSTs back to logout_path with the session's
 * CSRF token (`token`, also when the session is over: the POST checks the record the cookie names), and
 * who is signed in (`who`: null when nobody is, the button then ends the sign-in at the provider only).
 * The POST goes on to the provider's logout and `post_logout_redirect`, as a logout always does.
 */
export function logoutConfirmation(
  state: RequestState,
  config: SessionConfig,
  token: string | null,
  who: SessionRecord | null,
): void {
  const name = who === null ? null : (who.name ?? who.email ?? who.sub)
  const body = html`<h1>Log out?</h1>${
    name !== null
      ? html`<p>You are signed in as <strong>${name}</strong>.</p>`
      : html`<p>You are not signed in to this site. Logging out still ends your sign-in at the identity provider.</p>`
  }<form method="post" action="${config.logout_path}">${
    token !== null ? html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">` : ''
  }<div class="actions"><button type="submit">Log out</button></div></form><p class="muted"><a href="${config.post_login_redirect}">${
    name !== null ? 'Stay signed in' : 'Back to the site'
  }</a></p>`
  state.exit(200, renderPage('Log out', body), PAGE_HEADERS)
}
