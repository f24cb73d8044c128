/**
 * Whether a matched route takes the request the way it came (step 3 of pipeline.ts, and the dry run of
 * explain.ts, so both decide alike). Kong's rules: a grpc/grpcs route takes gRPC calls over HTTP/2 only,
 * a ws/wss route WebSocket handshakes only, the `s` forms over TLS only; a route that does not take the
 * request's scheme is no match (https on an http-only route) or asks for HTTPS (http on an https-only
 * one). A gRPC call on an http route is refused outright rather than passed on as HTTP/1.1, where its
 * trailers (the call's status) would be lost; a WebSocket handshake on an http route needs a service
 * that allows the upgrade.
 */
import { GatehouseError } from '../errors/errors.ts'
import type { RequestState } from './request-state.ts'
import type { RouteContext } from './route-context.ts'
import { webSocketNotAllowed } from './websocket.ts'

/** null: the route takes it; `no-match`: 404 as if no route matched; `use-https`: the route's HTTPS answer. */
export type ProtocolVerdict = null | 'no-match' | 'use-https' | GatehouseError

export function routeProtocolVerdict(state: RequestState, route: RouteContext): ProtocolVerdict {
  const tls = state.protocol === 'https'
  if (route.grpcOnly) {
    if (!state.grpc || state.req.httpVersionMajor !== 2 || (tls && !route.acceptsGrpcs)) return 'no-match'
    return !tls && !route.acceptsGrpc ? 'use-https' : null
  }
  if (state.grpc)
    return new GatehouseError(
      'GH_ERR_GRPC_ROUTE_REQUIRED',
      'gRPC requests need a route with protocols grpc or grpcs; this route takes http and https',
    )
  if (route.websocketOnly) {
    if (state.websocket === null || (tls && !route.acceptsWss)) return 'no-match'
    return !tls && !route.acceptsWs ? 'use-https' : null
  }
  if (!tls && !route.acceptsHttp) return 'use-https'
  // An http-only route is not a match for https (Kong's router).
  if (tls && !route.acceptsHttps) return 'no-match'
  if (state.websocket !== null && route.service?.websocket_upgrade !== true) return webSocketNotAllowed()
  return null
}
