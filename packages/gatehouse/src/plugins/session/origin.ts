/**
 * The request's own origin, as the browser used it: the scheme (https when the listener or, behind a
 * trusted proxy, X-Forwarded-Proto says so) and the Host (behind a trusted proxy, X-Forwarded-Host and
 * -Port). Redirect URIs are made from it, cookies are Secure by it, and the CSRF check compares Origin
 * with it. A client that is not a trusted proxy cannot change it with X-Forwarded-* headers.
 */

import type { RequestState } from '../../pipeline/request-state.ts'
import { isTrusted } from '../../proxy/forwarded.ts'
import { isLocalPath } from './schema.ts'

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value
  return v?.split(',')[0]?.trim()
}

export interface RequestOrigin {
  readonly https: boolean
  /** `scheme://host[:port]`, lower-case, no default port; null when the Host header is unusable. */
  readonly origin: string | null
}

export function requestOrigin(state: RequestState): RequestOrigin {
  const headers = state.req.headers
  const trusted = isTrusted(state.runtime.trustedProxies, state.req.socket.remoteAddress ?? '')
  const proto = (trusted ? first(headers['x-forwarded-proto']) : undefined) ?? state.protocol
  const https = proto.toLowerCase() === 'https'
  let host = (trusted ? first(headers['x-forwarded-host']) : undefined) ?? headers.host
  if (host !== undefined && trusted && !host.includes(']:') && !/:\d+$/.test(host)) {
    const port = first(headers['x-forwarded-port'])
    if (port !== undefined && /^\d{1,5}$/.test(port)) host = `${host}:${port}`
  }
  if (host === undefined || !HOST.test(host)) return { https, origin: null }
  const parsed = URL.parse(`${https ? 'https' : 'http'}://${host}`)
  return { https, origin: parsed === null ? null : parsed.origin }
}

/** `target` (a path on this site or an absolute URL) as an absolute URL for this request. */
export function absolute(target: string, origin: string): string {
  return isLocalPath(target) ? `${origin}${target}` : target
}

/**
 * A `return_to` the browser may be sent to after signing in: a path on this site (not `//host`, no
 * control characters or backslashes), at most 2 KiB; anything else is ignored.
 */
export function safeReturnTo(value: string | null): string | null {
  if (value === null || value.length > 2048 || !isLocalPath(value)) return null
  const parsed = URL.parse(value, 'http://gatehouse.invalid')
  return parsed !== null && parsed.origin === 'http://gatehouse.invalid' ? value : null
}
