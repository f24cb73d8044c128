/**
 * Page navigations without a session are sent to sign in (issue 15): a person who opens a page that needs
 * a session expects the login page and then that page again, while a script's call (fetch, XHR) needs the
 * 401 to decide for itself. Fetch Metadata tells the two apart in every current browser (`Sec-Fetch-Mode:
 * navigate`); a client that sends none (an older browser) is taken as loading a page when its GET asks
 * for HTML by name, which API clients do not (they ask for JSON, or for anything).
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { RequestState } from '../../pipeline/request-state.ts'
import { safeReturnTo } from './origin.ts'

/** Whether the request is a browser loading a page (top-level or in a frame), not a script's call. */
export function isNavigation(method: string, headers: IncomingHttpHeaders): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false
  const mode = headers['sec-fetch-mode']
  if (mode !== undefined) return mode === 'navigate'
  const accept = headers.accept
  return typeof accept === 'string' && acceptsHtml(accept)
}

/** Whether an Accept header names text/html with a non-zero weight (RFC 9110 §12.5.1). */
function acceptsHtml(accept: string): boolean {
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';')
    if (type!.trim().toLowerCase() !== 'text/html') continue
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  }
  return false
}

/**
 * `login_path` with the request's path and query as `return_to`, so the callback brings the browser back
 * here; without `return_to` when that is not a plain path on this site (safeReturnTo: no `//host`, no
 * backslash, at most 2 KiB), or with the path alone when the query makes it too long.
 */
export function loginLocation(state: RequestState, loginPath: string): string {
  const back = safeReturnTo(`${state.path}${state.query}`) ?? safeReturnTo(state.path)
  return back === null ? loginPath : `${loginPath}?return_to=${encodeURIComponent(back)}`
}
