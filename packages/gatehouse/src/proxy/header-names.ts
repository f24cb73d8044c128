/**
 * proxy.headers_with_underscores, applied before routing. CGI (RFC 3875 §4.1.18), WSGI, PHP and Rack
 * hand headers to the application as `HTTP_X_CONSUMER_USERNAME`, upper-cased with `-` turned into `_`, so
 * `X_Consumer_Username: admin` and `X-Consumer-Username: admin` are one variable there, and the first
 * would slip past a gateway that strips only the second. nginx drops such names by default
 * (`underscores_in_headers off`), Envoy can drop or refuse them (`headers_with_underscores_action`).
 *
 * Names are deleted from `req.headers` (and `req.rawHeaders`, which `headersDistinct` is built from), so
 * the router, every plugin and the upstream see the same headers. The scan is one `indexOf` per header
 * line; only a request that has an underscore pays for more.
 */
import type { IncomingMessage } from 'node:http'

export type UnderscoreAction = 'drop' | 'reject' | 'allow'

/**
 * Headers the gateway frames the request by or sets itself: with `_` for `-` they would reach a CGI-style
 * upstream as the same variable as the real one (`Transfer_Encoding` as HTTP_TRANSFER_ENCODING, or
 * `X_Forwarded_For` beside the X-Forwarded-For the gateway wrote), so `allow` drops them too.
 */
const GATEWAY_OWN = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-path',
  'x-real-ip',
  'via',
])

/**
 * Drops the header names `action` drops: every name with `_` (`drop`), or only those that read as an
 * identity header or one of GATEWAY_OWN once `_` is `-` (`allow`; `identity` holds lower-case names
 * with `-`). With `reject`,
 * answers the first name with `_` and changes nothing; otherwise answers null.
 */
export function screenHeaderNames(
  req: IncomingMessage,
  action: UnderscoreAction,
  identity: ReadonlySet<string>,
): string | null {
  const headers = req.headers
  const raw = req.rawHeaders
  let dropped = false
  // The lines as sent, not the keys of `headers`: a line named `__proto__` is no key there (Node's plain
  // object takes it as its prototype), yet plugins that read raw lines would see it.
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.indexOf('_') === -1) continue
    const name = raw[i]!.toLowerCase()
    if (action === 'reject') return name
    if (!Object.hasOwn(headers, name)) {
      // Already dropped (a repeated line), or a name `headers` cannot hold: its line goes either way.
      dropped = true
      continue
    }
    if (action === 'allow') {
      const dashed = name.replaceAll('_', '-')
      if (!identity.has(dashed) && !GATEWAY_OWN.has(dashed)) continue
    }
    delete headers[name]
    dropped = true
  }
  if (dropped) dropRawHeaders(req)
  return null
}

/** Removes from `rawHeaders` the lines whose (lower-cased) name is no longer in `headers`. */
function dropRawHeaders(req: IncomingMessage): void {
  const raw = req.rawHeaders
  const headers = req.headers
  let w = 0
  for (let r = 0; r < raw.length; r += 2) {
    const name = raw[r]!
    if (name.indexOf('_') !== -1 && !Object.hasOwn(headers, name.toLowerCase())) continue
    raw[w++] = name
    raw[w++] = raw[r + 1]!
  }
  raw.length = w
}
