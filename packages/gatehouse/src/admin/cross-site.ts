/**
 * Refuses what a web page on another site makes a browser send to the admin API (issue 10): a form or a
 * `fetch(..., {mode: 'no-cors'})` reaches the listener with the user's network position (loopback) even
 * though the page can never read the answer, and a write needs no answer to do harm. Browsers say where a
 * request comes from: `Origin` on every POST, PUT, PATCH and DELETE (and on CORS reads), and
 * `Sec-Fetch-Site` on everything (Fetch Metadata). A request is allowed when:
 * - its Origin is in `admin.allowed_origins` (a console on its own origin, answered with CORS); or
 * - its Origin, when present, is the listener's own as the browser sees it: `http://<a host the listener
 *   answers to>:<listener port>`, or exactly `http://<the request's Host>` (the same origin through a
 *   port forward); `Origin: null` (sandboxed frames, some redirects) is never own; and
 * - Sec-Fetch-Site is absent, `same-origin` or `none` (the user typed the URL).
 * Programs (curl, the CLI, Prometheus) send neither header and are unaffected.
 */
import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type HostName, hostAllowed, parseHost } from './hosts.ts'

/** Why a request was refused (for the log), or null when it may go on; `allowedOrigin` when CORS applies. */
export type CrossSiteVerdict =
  | { readonly refused: false; readonly allowedOrigin: string | null }
  | { readonly refused: true; readonly reason: 'origin' | 'sec-fetch-site' }

export function checkCrossSite(
  req: IncomingMessage,
  host: HostName,
  bound: AddressInfo | null,
  settings: { readonly allowedHosts: readonly string[]; readonly allowedOrigins: readonly string[] },
): CrossSiteVerdict {
  const origin = req.headers.origin
  if (origin !== undefined) {
    // A listed console's requests are cross-site by nature; the list is what vouches for them.
    if (settings.allowedOrigins.includes(origin)) return { refused: false, allowedOrigin: origin }
    if (!ownOrigin(origin, req, host, bound, settings.allowedHosts))
      return { refused: true, reason: 'origin' }
  }
  const site = req.headers['sec-fetch-site']
  if (site === 'cross-site' || site === 'same-site') return { refused: true, reason: 'sec-fetch-site' }
  return { refused: false, allowedOrigin: null }
}

function ownOrigin(
  origin: string,
  req: IncomingMessage,
  host: HostName,
  bound: AddressInfo | null,
  allowedHosts: readonly string[],
): boolean {
  // Anything but exactly `http://host[:port]` (a path, https, `null`) is not this plain-HTTP listener.
  const m = /^http:\/\/([^/?#]+)$/.exec(origin)
  if (m === null) return false
  const parsed = parseHost(m[1]!)
  if (parsed === null) return false
  const port = parsed.port === '' ? '80' : parsed.port
  if (parsed.name === host.name && port === (host.port === '' ? '80' : host.port)) return true
  return port === String(bound?.port) && hostAllowed(parsed, req, bound, allowedHosts)
}
