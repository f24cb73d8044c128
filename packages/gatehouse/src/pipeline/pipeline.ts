/**
 * The request pipeline, in order. Each stage is one module; this file only says what runs when.
 *
 *   1. parse      the HTTP/1 head (RFC 9112: Host, version, framing;     request-head.ts
 *                 bad → 400/431/501/505 and close), header names with    ../proxy/header-names.ts
 *                 `_` (drop or 400), the request line and Host: one       request-target.ts
 *                 canonical path (→ 400)
 *   2. match      a route, Kong's precedence (none → 404)                 ../router/router.ts
 *   3. protocol   https-only routes refuse http (426 or redirect);        (below)
 *                 grpc/grpcs routes take gRPC calls over HTTP/2 only, and  grpc-status.ts
 *                 a gRPC call needs one (refusals go out as gRPC statuses)
 *                 a WebSocket handshake needs a ws/wss route or a service  websocket.ts
 *                 with websocket_upgrade; ws/wss routes take only those
 *   4. prepare    the upstream path and headers                           upstream-request.ts
 *   5. access     a body a plugin must read, announced too large → 413;   body-limit.ts
 *                 plugins by priority: tracing → CORS → authenticate →    plugin-phases.ts, phases.ts
 *                 authorise → limit → transform (a plugin may answer)
 *   6. forward    to the service's pool, streaming both ways              forward.ts
 *                 (a handshake's 101 opens a WebSocket tunnel)             websocket.ts
 *      or over HTTP/2 with trailers and deadlines (grpc/grpcs routes)     grpc-forward.ts
 *      or compose several services' JSON into one (composition routes)    compose.ts
 *   7. response   plugins see the response head before it is sent         plugin-phases.ts
 *   8. log        metrics, one access-log line, plugins' log phase        (below)
 *
 * Before 2, two applications answer on the proxy listener themselves: the built-in identity provider
 * (under its issuer) and the JWKS services use to verify internal tokens (internal_tokens.jwks_path).
 * Each is logged and counted under its own route label (observability/metrics.ts BUILTIN_ROUTES), with
 * the body bytes it sent.
 * The internal token for the upstream is minted in 5, by the internal-token plugin (transform band),
 * once authentication, authorisation and rate limiting have passed.
 * POST /explain (explain.ts) takes a described request through 1 to 5 as a dry run (dry-run.ts): the
 * same stage functions and plugin handlers, nothing forwarded; keep its sequence in step with this one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { GatehouseError } from '../errors/errors.ts'
import { toGatehouseError } from '../errors/respond.ts'
import type { InternalKeyRing } from '../internal-tokens/key-ring.ts'
import type { AccessLog } from '../observability/access-log.ts'
import type { Logger } from '../observability/logger.ts'
import type { RouteMetrics } from '../observability/metrics.ts'
import { clientErrorBytesOf, clientErrorOf, closeAfter } from '../proxy/client-errors.ts'
import { letBodyCome } from '../proxy/expect-continue.ts'
import { clientAddress, isTrusted } from '../proxy/forwarded.ts'
import { screenHeaderNames } from '../proxy/header-names.ts'
import { requestIdFrom } from '../proxy/trace-context.ts'
import { isPathRefusal, type PathRefusal } from '../router/path-policy.ts'
import { bodyTooLarge } from './body-limit.ts'
import { composeResponse } from './compose.ts'
import { countBodyBytes } from './count-body-bytes.ts'
import { ClientGoneError, forwardUpstream } from './forward.ts'
import { forwardGrpc } from './grpc-forward.ts'
import { isGrpcRequest } from './grpc-status.ts'
import { runAccessPhase, runLogPhase } from './plugin-phases.ts'
import { checkRequestHead } from './request-head.ts'
import { type ProxyContext, RequestState } from './request-state.ts'
import { readRequestTarget } from './request-target.ts'
import { respondWithError, sendGatewayResponse } from './respond.ts'
import { routeProtocolVerdict } from './route-protocol.ts'
import type { GatewayRuntime } from './runtime.ts'
import { prepareUpstreamRequest, upstreamPathFor } from './upstream-request.ts'
import {
  handshakeProblem,
  isWebSocketUpgrade,
  unsupportedUpgrade,
  upgradeRequested,
  type WebSockets,
  webSocketNotAllowed,
} from './websocket.ts'

export interface PipelineContext extends ProxyContext {
  readonly runtime: GatewayRuntime
  readonly logger: Logger
  readonly accessLog: AccessLog | null
  /** Where requests that matched no route are counted. */
  readonly unmatchedMetrics: RouteMetrics
  /** Where requests for the internal-token JWKS are counted (route "gatehouse:internal-jwks"). */
  readonly jwksMetrics: RouteMetrics
  /** The built-in identity provider when it runs on this listener (identity/mount.ts), else null. */
  readonly identity: MountedIdentity | null
  /** The gateway's internal-token keys; their public JWKS is served at internal_tokens.jwks_path. */
  readonly internalKeys: InternalKeyRing
  /** Called when a request finishes, to count in-flight requests. */
  readonly onFinished: () => void
  /** Open WebSocket tunnels and their metrics. */
  readonly websockets: WebSockets
}

/**
 * An application served on the proxy listener ahead of routing: the identity provider's endpoints and
 * pages under its issuer. `matches` is a cheap check of the parsed request (host and path).
 */
export interface MountedIdentity {
  matches(host: string, path: string): boolean
  /** Serves the request (its canonical path and raw query); the pipeline still logs it and counts it. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): void
  /** Its metric series (route "gatehouse:identity-provider"). */
  readonly metrics: RouteMetrics
}

const kState = Symbol('gatehouse.requestState')
type ResponseWithState = ServerResponse & { [kState]?: RequestState; [kContext]?: PipelineContext }
const kContext = Symbol('gatehouse.pipelineContext')

export function handleRequest(pc: PipelineContext, req: IncomingMessage, res: ServerResponse): void {
  const startedAt = performance.now()
  const runtime = pc.runtime
  const socket = req.socket
  const peer = socket.remoteAddress ?? ''
  const trustedPeer = isTrusted(runtime.trustedProxies, peer)
  const headers = req.headers
  const proxy = runtime.config.settings.proxy

  // 1. parse: the head's framing first; then header names, so that nothing after (not even the request
  // id) reads a dropped one; then the target
  const headError = checkRequestHead(req, proxy.max_header_count)
  const underscored =
    headError === null
      ? screenHeaderNames(req, proxy.headers_with_underscores, runtime.identityHeaders)
      : null
  const url = req.url ?? ''
  const target = readRequestTarget(url, headers.host, proxy.path_normalization)
  const parsed = isPathRefusal(target) ? null : target
  const state = new RequestState(req, res, pc, runtime, {
    startedAt,
    requestId: requestIdFrom(headers['x-request-id']),
    method: req.method ?? 'GET',
    // A refused path is logged as sent (without the query), so the access log shows the attempt.
    path: parsed?.path ?? rawPathOf(url),
    query: parsed?.query ?? '',
    protocol: (socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http',
    host: parsed?.host ?? '',
    clientIp: trustedPeer ? clientAddress(runtime.trustedProxies, peer, headers['x-forwarded-for']) : peer,
  })
  state.grpc = isGrpcRequest(headers)
  const r = res as ResponseWithState
  r[kState] = state
  r[kContext] = pc
  res.on('close', onResponseClose)
  if (headError !== null) {
    closeAfter(req, res)
    refuseUnrouted(state, headError, CLOSE)
    return
  }
  if (parsed === null) {
    const refused = target as PathRefusal
    const error = new GatehouseError(refused.code, refused.message, { detail: refused.reason })
    // A target that is no URL at all (`OPTIONS *`, a bad escape) comes from a client that got HTTP wrong:
    // close, as for a bad head. A path form the policy refuses is a well-formed request: keep the connection.
    if (refused.code === 'GH_ERR_REQUEST_INVALID') {
      closeAfter(req, res)
      refuseUnrouted(state, error, CLOSE)
    } else refuseUnrouted(state, error)
    return
  }
  if (underscored !== null) {
    refuseUnrouted(state, underscoreRefusal(underscored))
    return
  }
  // 1a. an Upgrade: WebSocket or a refusal, never an answer in plain HTTP the client did not ask for
  const upgrade = upgradeRequested(state)
  if (upgrade !== null) {
    if (!isWebSocketUpgrade(upgrade)) {
      refuseUnrouted(state, unsupportedUpgrade())
      return
    }
    state.websocket = { opened: false, closed: onTunnelClosed, websockets: pc.websockets }
    const problem = handshakeProblem(state)
    if (problem !== null) {
      refuseUnrouted(state, problem[0], problem[1])
      return
    }
  }

  // 1b. the identity provider's own endpoints, when it is mounted here
  const identity = pc.identity
  if (identity?.matches(state.host, state.path)) {
    state.builtin = identity.metrics
    runtime.builtinTracer?.traceBuiltin?.(state)
    if (state.websocket !== null) {
      respondWithError(state, webSocketNotAllowed())
      return
    }
    // koa writes the response, not the pipeline: its bytes are counted as they go out.
    countBodyBytes(state)
    // The provider reads its own bodies (forms, token requests), bounded by its own limits.
    letBodyCome(res)
    identity.handle(req, res, parsed.path, parsed.query)
    return
  }

  // 1c. the public keys of internal tokens, for services and their SDK
  if (state.path === runtime.config.settings.internal_tokens.jwks_path) {
    state.builtin = pc.jwksMetrics
    runtime.builtinTracer?.traceBuiltin?.(state)
    if (state.websocket !== null) {
      respondWithError(state, webSocketNotAllowed())
      return
    }
    if (state.method !== 'GET' && state.method !== 'HEAD') {
      const err = new GatehouseError('GH_ERR_ENDPOINT_METHOD_NOT_ALLOWED', 'Method not allowed', {
        detail: 'jwks_method_not_allowed',
      })
      respondWithError(state, err, { allow: 'GET, HEAD' })
      return
    }
    serveJwks(pc.internalKeys, state)
    return
  }

  // 2. match
  // A getter that asks the socket each time: read once.
  const localPort = socket.localPort ?? 0
  const port = parsed.port ?? localPort
  const match = runtime.router.match({
    method: state.method,
    host: state.host,
    port,
    path: state.path,
    headers,
  })
  if (match === null) {
    refuseUnrouted(state, new GatehouseError('GH_ERR_ROUTE_NOT_FOUND', 'no Route matched with those values'))
    return
  }
  const ctx = match.target
  state.route = ctx
  state.captures = match.captures

  // 3. protocol
  const verdict = routeProtocolVerdict(state, ctx)
  if (verdict !== null) {
    if (verdict === 'use-https') refuseHttp(state, parsed.hostHeader)
    else if (verdict !== 'no-match') respondWithError(state, verdict)
    else {
      state.route = null
      refuseUnrouted(
        state,
        new GatehouseError('GH_ERR_ROUTE_NOT_FOUND', 'no Route matched with those values'),
      )
    }
    return
  }

  // 4. prepare
  const upstream = upstreamPathFor(ctx.route, ctx.service, state.path, match.matchedLength)
  state.upstreamPath = upstream.path
  state.strippedPrefix = upstream.strippedPrefix
  prepareUpstreamRequest(state, trustedPeer, peer, localPort)

  // 5. access
  if (ctx.chain.bodyReaders !== null) {
    const tooLarge = bodyTooLarge(state, ctx.chain.bodyReaders)
    if (tooLarge !== null) {
      respondWithError(state, tooLarge)
      return
    }
  }
  if (ctx.chain.consumerScoped && ctx.chain.hasAccess)
    state.chosenInstances = new Array(ctx.chain.steps.length).fill(null)
  if (!ctx.chain.hasAccess) {
    state.stepsRun = ctx.chain.steps.length
    proceed(state)
    return
  }
  let pending: Promise<void> | undefined
  try {
    pending = runAccessPhase(state)
  } catch (err) {
    fail(state, err)
    return
  }
  if (pending === undefined) proceed(state)
  else
    pending.then(
      () => proceed(state),
      (err: unknown) => fail(state, err),
    )
}

/** The path of a request target as sent, without the query. */
function rawPathOf(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** proxy.headers_with_underscores: reject. A header name is a token (no secret, no control character). */
function underscoreRefusal(name: string): GatehouseError {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name
  return new GatehouseError(
    'GH_ERR_REQUEST_HEADER_REJECTED',
    `Bad request: header name with an underscore ('${shown}')`,
    { detail: 'header_underscore' },
  )
}

/** Answers that end the connection: the client's framing of what follows cannot be trusted. */
const CLOSE = { connection: 'close' }

function proceed(state: RequestState): void {
  if (state.res.destroyed) return
  if (state.exited) {
    sendGatewayResponse(state)
    return
  }
  const ctx = state.route!
  // 6. compose (7. response runs inside, once the parts have answered)
  if (ctx.composition !== null) {
    if (state.websocket !== null) {
      respondWithError(state, webSocketNotAllowed())
      return
    }
    composeResponse(state)
    return
  }
  if (ctx.service === null) {
    respondWithError(
      state,
      new GatehouseError('GH_ERR_ROUTE_NO_SERVICE', 'no Service found with those values'),
    )
    return
  }
  if (!ctx.service.enabled) {
    respondWithError(state, new GatehouseError('GH_ERR_SERVICE_DISABLED', 'Service unavailable'))
    return
  }
  // 6. forward (7. response runs inside, when the upstream's head arrives)
  if (ctx.grpcOnly) forwardGrpc(state)
  else forwardUpstream(state)
}

function fail(state: RequestState, err: unknown): void {
  if (state.res.destroyed) return
  respondWithError(state, toGatehouseError(err))
}

function refuseHttp(state: RequestState, hostHeader: string): void {
  const code = state.route!.route.https_redirect_status_code
  const err = new GatehouseError('GH_ERR_ROUTE_PROTOCOL', 'Please use HTTPS protocol')
  if (code === 426) {
    respondWithError(state, err, { connection: 'Upgrade', upgrade: 'TLS/1.2, HTTP/1.1' })
    return
  }
  state.error = err
  state.exit(code, undefined, { location: `https://${hostHeader}${state.req.url ?? '/'}` })
  sendGatewayResponse(state)
}

/** The JWKS document, for GET and HEAD (other methods are refused before: it is read-only). */
function serveJwks(keys: InternalKeyRing, state: RequestState): void {
  const { method, res } = state
  const body = keys.jwksBody
  const length = Buffer.byteLength(body)
  res.writeHead(200, {
    'content-type': 'application/jwk-set+json',
    'content-length': length,
    // Services may cache it briefly; the next key is published long before it signs.
    'cache-control': 'public, max-age=60',
  })
  if (method === 'HEAD') res.end()
  else {
    state.bytesSent = length
    res.end(body)
  }
}

/**
 * Answers a request that has no route (refused before routing, or matched none) with `error`. A global
 * tracing instance traces it, as it does the built-in endpoints: what no route takes (scans, mistakes,
 * refused attacks) is what an operator looks for in the traces.
 */
function refuseUnrouted(
  state: RequestState,
  error: GatehouseError,
  headers?: Parameters<typeof respondWithError>[2],
): void {
  state.runtime.builtinTracer?.traceBuiltin?.(state)
  respondWithError(state, error, headers)
}

// 8. log — runs once per request, when the response is done or the client went away.
function onResponseClose(this: ServerResponse): void {
  const r = this as ResponseWithState
  const state = r[kState]!
  const pc = r[kContext]!
  // Both: an HTTP/2 response whose stream the client reset says writableFinished (Node's compat layer)
  // but never ended, and an HTTP/1 response may have ended without reaching the client.
  const unfinished = !this.writableEnded || !this.writableFinished
  if (unfinished && state.inflight !== null) state.inflight.abort(new ClientGoneError('connection closed'))
  // Unfinished: the gateway cut it at the shutdown timeout (503), or the client left (nginx's 499).
  // A gRPC refusal went out as 200 + grpc-status: the log and metrics keep the status it stood for.
  let status = state.grpcRefusedStatus !== 0 ? state.grpcRefusedStatus : this.statusCode
  const refused = unfinished ? clientErrorOf(this) : null
  if (refused !== null) {
    // The parser found this request's body malformed and client-errors.ts answered it (400).
    status = refused.status
    state.error ??= refused
    state.bytesSent = clientErrorBytesOf(this)
  } else if (unfinished && pc.cutting) {
    status = 503
    state.error ??= new GatehouseError('GH_ERR_SERVER_SHUTTING_DOWN', 'closed by the shutdown timeout')
  } else if (unfinished) status = 499
  logRequest(state, pc, status, performance.now() - state.startedAt)
}

/**
 * A WebSocket tunnel closed: its handshake is logged now, status 101, with the connection's whole
 * duration and the bytes relayed to the client (nginx's $request_time and $bytes_sent for an upgraded
 * connection); the request metrics take the time to the 101, so tunnels' lifetimes stay out of the
 * latency histogram.
 */
function onTunnelClosed(state: RequestState): void {
  const pc = (state.res as ResponseWithState)[kContext]!
  logRequest(state, pc, 101, performance.now() - state.startedAt)
}

function logRequest(state: RequestState, pc: PipelineContext, status: number, latency: number): void {
  state.finalStatus = status
  state.totalLatency = latency
  const ctx = state.route
  const upstreamSeconds = state.upstreamLatency >= 0 ? state.upstreamLatency / 1000 : -1
  const metrics = ctx !== null ? ctx.metrics : (state.builtin ?? pc.unmatchedMetrics)
  const handshake = state.websocket
  if (handshake === null) metrics.record(status, latency / 1000, upstreamSeconds)
  else if (handshake.opened) {
    const toSwitch = state.upstreamStartedAt - state.startedAt + state.upstreamLatency
    metrics.record(status, toSwitch / 1000, upstreamSeconds)
  } else {
    metrics.record(status, latency / 1000, upstreamSeconds)
    // Not upgraded: refused by the gateway (route, plugins), answered otherwise by the upstream, or failed.
    const outcome = state.upstreamLatency >= 0 ? 'upstream_refused' : status >= 500 ? 'failed' : 'refused'
    pc.websockets.handshakes.labels(ctx?.serviceName ?? '', ctx?.routeName ?? '', outcome).inc()
  }
  // The SERVER span ends with the status the client got, before log plugins run (they may be slow to
  // return, and the span is about the request).
  if (state.trace !== null) state.trace.end(state)
  if (ctx !== null) {
    runLogPhase(state, (err, plugin) =>
      pc.logger.error({ err, plugin, request_id: state.requestId }, 'plugin log phase failed'),
    )
  }
  const accessLog = pc.accessLog
  if (accessLog !== null) accessLog.write(state, status, latency)
  const error = state.error
  if (error !== null && error.status >= 500 && !error.expose) {
    pc.logger.error({ request_id: state.requestId, code: error.code, detail: error.detail }, error.message)
  }
  pc.onFinished()
}
