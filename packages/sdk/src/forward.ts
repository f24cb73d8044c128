/**
 * `forwardingFetch`: calls from one service to another on behalf of the same caller, carrying the same
 * internal token (the callee accepts it only if it is in `aud`) and the request id. The token is only
 * ever sent over http(s), and never replaces an Authorization (or configured) header the calling code
 * set itself. Fetch drops `Authorization` on cross-origin redirects; a custom header is not dropped, so
 * with `header` set the callee should not redirect elsewhere.
 */
import { HEADER_NAME } from './extract.ts'
import { Identity } from './identity.ts'

export interface ForwardingOptions {
  /** The header carrying the request id. Default `x-request-id`. */
  readonly requestIdHeader?: string | undefined
  /** The header carrying the token: `authorization` sends `Bearer <token>`, another the bare token. Default `authorization`. */
  readonly header?: string | undefined
  /** The `fetch` to wrap. Default the global `fetch`. */
  readonly fetch?: typeof fetch | undefined
}

/** The fetch signature forwardingFetch returns. */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** Anything carrying an identity the SDK set: a node:http, Express or Fastify request. */
export interface RequestWithIdentity {
  readonly identity?: Identity | null | undefined
  readonly headers?: Record<string, string | string[] | undefined> | undefined
}

const HEADER_SAFE = /^[\x21-\x7e][\x20-\x7e]*$/

function requestIdOf(source: Identity | RequestWithIdentity, header: string): string | null {
  if (source instanceof Identity) return source.requestId
  const fromToken = source.identity?.requestId
  if (fromToken) return fromToken
  const value = source.headers?.[header]
  return typeof value === 'string' ? value : null
}

/**
 * A `fetch` that adds the caller's internal token and request id to each request.
 *
 * @example
 * import { forwardingFetch } from 'gatehouse-sdk'
 *
 * app.get('/basket', async (req, res) => {
 *   const fetchAsCaller = forwardingFetch(req)
 *   const prices = await fetchAsCaller('http://pricing.internal/prices?ids=1,2')
 *   res.json(await prices.json())
 * })
 */
export function forwardingFetch(
  source: Identity | RequestWithIdentity,
  options: ForwardingOptions = {},
): Fetch {
  const identity = source instanceof Identity ? source : source?.identity
  if (!(identity instanceof Identity))
    throw new TypeError(
      'gatehouse-sdk: forwardingFetch needs an identity, or a request the SDK authenticated',
    )
  const header = (options.header ?? 'authorization').toLowerCase()
  const requestIdHeader = (options.requestIdHeader ?? 'x-request-id').toLowerCase()
  if (!HEADER_NAME.test(header) || !HEADER_NAME.test(requestIdHeader))
    throw new TypeError('gatehouse-sdk: "header" and "requestIdHeader" must be HTTP header names')
  const base = options.fetch ?? fetch
  const credentials = header === 'authorization' ? `Bearer ${identity.token}` : identity.token
  const requestId = requestIdOf(source, requestIdHeader)
  const forwardedId = requestId !== null && HEADER_SAFE.test(requestId) ? requestId : null

  return function fetchAsCaller(input, init) {
    let url: URL
    try {
      url = new URL(input instanceof Request ? input.url : String(input))
    } catch {
      return Promise.reject(new TypeError('gatehouse-sdk: forwardingFetch needs an absolute URL'))
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return Promise.reject(
        new TypeError(
          `gatehouse-sdk: forwardingFetch sends the token over http(s) only, not ${url.protocol}`,
        ),
      )
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
    if (!headers.has(header)) headers.set(header, credentials)
    if (forwardedId !== null && !headers.has(requestIdHeader)) headers.set(requestIdHeader, forwardedId)
    return base(input, { ...init, headers })
  }
}
