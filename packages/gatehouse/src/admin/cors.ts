/**
 * CORS for the origins in `admin.allowed_origins` (a console served from its own origin): their
 * preflights are answered here, before the token check (a preflight never carries credentials), and
 * their requests' answers name them in Access-Control-Allow-Origin. No cookies are involved: the console
 * sends the admin token in a header, so credentials mode stays off.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE'
const HEADERS = 'authorization, content-type, kong-admin-token'

/** Answers a preflight from `origin` and returns true, or adds the CORS headers and returns false. */
export function applyCors(req: IncomingMessage, res: ServerResponse, origin: string): boolean {
  res.setHeader('access-control-allow-origin', origin)
  res.setHeader('vary', 'Origin')
  if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) {
    res.setHeader('access-control-expose-headers', 'allow, retry-after, accept-post, accept-patch')
    return false
  }
  res.writeHead(204, {
    'access-control-allow-methods': METHODS,
    'access-control-allow-headers': HEADERS,
    'access-control-max-age': '600',
    'content-length': '0',
  })
  res.end()
  return true
}
