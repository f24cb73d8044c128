/**
 * The gateway's API as the page uses it, and who is signed in (GET /session: the browser holds an
 * HttpOnly session cookie, never a token). Requests that change something send the session's CSRF token
 * in X-CSRF-Token.
 */

const basketCount = document.getElementById('basket-count')

/** The gateway's answer to GET /session; `{ authenticated: false }` until it arrives. */
export let session = { authenticated: false }

/** JSON from the gateway: `{ status, ok, body, headers, ms }`; the body is null when it is not JSON. */
export async function api(path, init = {}) {
  const started = performance.now()
  const headers = { accept: 'application/json', ...init.headers }
  if (init.method && init.method !== 'GET') {
    headers['x-csrf-token'] = session.csrf_token ?? ''
    if (init.body !== undefined) headers['content-type'] = 'application/json'
  }
  const res = await fetch(path, { ...init, headers, credentials: 'same-origin' })
  let body = null
  if ((res.headers.get('content-type') ?? '').includes('json')) body = await res.json().catch(() => null)
  return {
    status: res.status,
    ok: res.ok,
    body,
    headers: res.headers,
    ms: Math.round(performance.now() - started),
  }
}

export function messageOf(res) {
  return res.body?.message ?? res.body?.error_description ?? `The shop answered ${res.status}`
}

/** /login, coming back to this page. */
export function loginHref() {
  return `/login?return_to=${encodeURIComponent(location.pathname)}`
}

/** Asks the gateway who is signed in (`session`). */
export async function loadSession() {
  try {
    const res = await api('/session')
    session = res.ok && res.body ? res.body : { authenticated: false }
  } catch {
    session = { authenticated: false }
  }
}

export function setBasketCount(count) {
  basketCount.textContent = String(count)
  basketCount.hidden = count === 0
}

export async function refreshBasketCount() {
  const res = await api('/api/basket').catch(() => null)
  if (res?.ok) setBasketCount(res.body.count)
}
