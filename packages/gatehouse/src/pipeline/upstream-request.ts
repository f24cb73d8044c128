/**
 * Builds the upstream request from the client's once a route matched: the path (strip_path,
 * path_handling, the service path), and the headers (hop-by-hop removed, Host, X-Forwarded-*, Via,
 * X-Request-ID, traceparent). Plugins then edit the result in their access phase.
 */
import type { RouteEntity, ServiceEntity } from '../config/model.ts'
import { setForwardedHeaders } from '../proxy/forwarded.ts'
import { connectionListed, HOP_BY_HOP } from '../proxy/hop-headers.ts'
import { isValidTraceparent, newTraceparent } from '../proxy/trace-context.ts'
import { type HeaderMap, newHeaderMap, type RequestState } from './request-state.ts'

const VIA = '1.1 gatehouse'

/** Kong's path_handling: v0 joins with exactly one slash, v1 concatenates. */
export function joinUpstreamPath(servicePath: string | null, postfix: string, handling: 'v0' | 'v1'): string {
  if (postfix === '') return servicePath ?? '/'
  if (servicePath === null) return postfix.startsWith('/') ? postfix : `/${postfix}`
  if (handling === 'v1') return servicePath + postfix
  const left = servicePath.endsWith('/') ? servicePath.slice(0, -1) : servicePath
  return postfix.startsWith('/') ? left + postfix : `${left}/${postfix}`
}

export function upstreamPathFor(
  route: RouteEntity,
  service: ServiceEntity | null,
  path: string,
  matchedLength: number,
): { path: string; strippedPrefix: string } {
  const strip = route.strip_path && matchedLength > 0
  const postfix = strip ? path.slice(matchedLength) : path
  return {
    path: joinUpstreamPath(service?.path ?? null, postfix, route.path_handling),
    strippedPrefix: strip ? path.slice(0, matchedLength) : '',
  }
}

/**
 * Client headers minus hop-by-hop ones and `identity` (the gateway's to set: proxy/identity-headers.ts
 * and those the configuration's plugins declare), from Node's parsed header object: repeated list
 * headers arrive joined with ", " (RFC 9110 §5.3), Cookie lines with "; ", and for singleton headers
 * (Authorization, Content-Type, Host, ...) only the first is kept — so the upstream sees exactly the
 * value the gateway evaluated, never a second one it did not.
 */
export function copyEndToEndHeaders(
  incoming: Readonly<Record<string, string | string[] | undefined>>,
  identity: ReadonlySet<string>,
): HeaderMap {
  const out = newHeaderMap()
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || identity.has(name) || name === 'host' || name === 'expect') continue
    out[name] = incoming[name]!
  }
  const listed = connectionListed(incoming.connection)
  if (listed) for (const name of listed) delete out[name]
  return out
}

export function prepareUpstreamRequest(
  state: RequestState,
  trustedPeer: boolean,
  peer: string,
  localPort: number,
): void {
  const ctx = state.route!
  const incoming = state.req.headers
  // Identity headers are the gateway's to set (auth plugins); a client's copies never reach upstream.
  const headers = copyEndToEndHeaders(incoming, state.runtime.identityHeaders)
  const hostHeader = incoming.host ?? ''
  headers.host =
    ctx.route.preserve_host && hostHeader !== '' ? hostHeader : (ctx.upstream?.hostHeader ?? hostHeader)
  setForwardedHeaders(
    headers,
    {
      trustedPeer,
      peer,
      protocol: state.protocol,
      host: state.host,
      localPort,
      originalPath: state.path,
      strippedPrefix: state.strippedPrefix,
      incoming,
    },
    state.clientIp,
  )
  const via = incoming.via
  headers.via = via ? `${via}, ${VIA}` : VIA
  headers['x-request-id'] = state.requestId
  const traceparent = incoming.traceparent
  if (typeof traceparent !== 'string' || !isValidTraceparent(traceparent)) {
    headers.traceparent = newTraceparent()
    delete headers.tracestate
  }
  state.upstreamHeaders = headers
}

export { VIA }
