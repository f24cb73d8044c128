/**
 * "Why was this refused?" (issue 12): a request described by an operator (POST /explain) taken through
 * the pipeline's own stages up to the end of the access phase, as a dry run (dry-run.ts), and never
 * forwarded. The stages are pipeline.ts's, in its order, each the same function a real request runs:
 *   header names (proxy.headers_with_underscores) → the target and Host (path normalisation) → the
 *   identity provider and the internal JWKS, answered before routing → the router (or the route the
 *   operator named) → protocol → the upstream request → every plugin's access handler.
 * The request is a real IncomingMessage whose headers Node builds from the raw lines, as its parser does
 * (duplicates joined or dropped the same way); it has no body and no connection.
 *
 * What comes back says what each stage decided and holds nothing the operator sent that could be a
 * credential: header and query values are not in it (admin/explain.ts describes them and scrubs the
 * answer), upstream headers are named, and only the identity headers the gateway sets are shown.
 */
import { randomBytes } from 'node:crypto'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { GatehouseError } from '../errors/errors.ts'
import { clientAddress, isTrusted } from '../proxy/forwarded.ts'
import { screenHeaderNames } from '../proxy/header-names.ts'
import { requestIdFrom } from '../proxy/trace-context.ts'
import { isPathRefusal } from '../router/path-policy.ts'
import { Router } from '../router/router.ts'
import { DryRun, type StepVerdict } from './dry-run.ts'
import { type Outcome, outcomeOf } from './explain-outcome.ts'
import { isGrpcRequest } from './grpc-status.ts'
import { runAccessPhaseDry } from './plugin-phases.ts'
import { type HeaderMap, RequestState } from './request-state.ts'
import { readRequestTarget } from './request-target.ts'
import { exitWithError } from './respond.ts'
import type { RouteContext } from './route-context.ts'
import { routeProtocolVerdict } from './route-protocol.ts'
import type { GatewayRuntime } from './runtime.ts'
import { prepareUpstreamRequest, upstreamPathFor } from './upstream-request.ts'
import { handshakeProblem } from './websocket.ts'

export type { Outcome } from './explain-outcome.ts'

export type ExplainProtocol = 'http' | 'https' | 'ws' | 'wss' | 'grpc' | 'grpcs'

/** The request to explain, as a client would send it (validated by the admin API). */
export interface ExplainInput {
  readonly method: string
  /** The Host header: a name or address, with a port when it has one. */
  readonly host: string
  /** The request target in origin form: the path and the query string. */
  readonly target: string
  /**
   * How the client reached the gateway: `ws`/`wss` is a WebSocket handshake (an HTTP/1.1 GET with its
   * Upgrade headers) and `grpc`/`grpcs` a gRPC call (HTTP/2, `application/grpc`), over TLS for the `s` forms.
   */
  readonly protocol: ExplainProtocol
  /** The address the request comes from (the connection's peer). */
  readonly peer: string
  /** Header lines after Host, as [name, value, name, value, ...]. */
  readonly rawHeaders: readonly string[]
  /** A route the operator named (its compiled context), explained whatever the router would pick. */
  readonly route: RouteContext | null
}

/** What the pipeline serves besides routes: the identity provider's paths and the internal JWKS. */
export interface ExplainContext {
  readonly runtime: GatewayRuntime
  /** The identity provider mounted on the proxy listener, or null. */
  readonly identity: { matches(host: string, path: string): boolean } | null
}

export interface Explanation {
  readonly request: {
    readonly method: string
    readonly host: string
    readonly path: string
    readonly protocol: ExplainProtocol
    readonly client_ip: string
    readonly request_id: string
    /** Header names the gateway dropped before anything read them (proxy.headers_with_underscores). */
    readonly dropped_headers: readonly string[]
  }
  readonly route: RouteSummary | null
  /** How the route was found: by the router, or named (and then whether the router agrees). */
  readonly routing: string
  readonly plugins: readonly StepVerdict[]
  readonly consumer: { id: string; username: string | null; custom_id: string | null } | null
  readonly credential: { id: string } | null
  readonly caller: Readonly<Record<string, unknown>> | null
  readonly outcome: Outcome
}

interface RouteSummary {
  readonly id: string
  readonly name: string | null
  readonly service: { id: string; name: string | null } | null
}

const NOT_PROXYING = { draining: false, cutting: false }

/** Explains the request: what each stage and plugin decided, and what the client would get. */
export async function explainRequest(input: ExplainInput, ctx: ExplainContext): Promise<Explanation> {
  const runtime = ctx.runtime
  const proxy = runtime.config.settings.proxy
  const { req, res, socket } = syntheticRequest(input)
  try {
    const before = Object.keys(req.headers)
    // 1. parse: header names, then the target, as pipeline.ts
    const underscored = screenHeaderNames(req, proxy.headers_with_underscores, runtime.identityHeaders)
    const dropped = before.filter((name) => !Object.hasOwn(req.headers, name))
    const target = readRequestTarget(input.target, req.headers.host, proxy.path_normalization)
    const parsed = isPathRefusal(target) ? null : target
    const trustedPeer = isTrusted(runtime.trustedProxies, input.peer)
    const state = new RequestState(req, res, NOT_PROXYING, runtime, {
      startedAt: performance.now(),
      requestId: requestIdFrom(req.headers['x-request-id']),
      method: input.method,
      path: parsed?.path ?? input.target.split('?')[0]!,
      query: parsed?.query ?? '',
      protocol: isTls(input.protocol) ? 'https' : 'http',
      host: parsed?.host ?? '',
      clientIp: trustedPeer
        ? clientAddress(runtime.trustedProxies, input.peer, req.headers['x-forwarded-for'])
        : input.peer,
    })
    state.grpc = isGrpcRequest(req.headers)
    if (input.protocol === 'ws' || input.protocol === 'wss')
      state.websocket = { opened: false, closed: () => {}, websockets: null }
    const dryRun = new DryRun()
    const explained = (routing: string, outcome: Outcome): Explanation =>
      explanation(state, input.protocol, dropped, routing, dryRun, outcome)
    const refusedWith = (routing: string, err: GatehouseError, headers?: HeaderMap): Explanation => {
      exitWithError(state, err, err.status, undefined, headers)
      return explained(routing, outcomeOf(state, dryRun))
    }

    if (isPathRefusal(target))
      return refusedWith(
        'not routed',
        new GatehouseError(target.code, target.message, { detail: target.reason }),
      )
    if (underscored !== null)
      return refusedWith(
        'not routed',
        new GatehouseError('GH_ERR_REQUEST_HEADER_REJECTED', 'Bad request: header name with an underscore', {
          detail: 'header_underscore',
        }),
      )
    if (state.websocket !== null) {
      const problem = handshakeProblem(state)
      if (problem !== null) return refusedWith('not routed', problem[0], problem[1])
    }
    const path = state.path
    // 1b, 1c. answered before routing
    if (input.route === null && ctx.identity?.matches(state.host, path))
      return explained('not routed', {
        result: 'answered',
        by: 'identity-provider',
        what: 'the built-in identity provider serves this path itself (under its issuer); no route or plugin runs',
      })
    if (input.route === null && path === runtime.config.settings.internal_tokens.jwks_path)
      return explained('not routed', {
        result: 'answered',
        by: 'internal-jwks',
        what: 'the gateway serves the internal-token JWKS here (internal_tokens.jwks_path); no route or plugin runs',
      })

    // 2. match: the router's choice, or the named route (matched alone, for strip_path and captures)
    const port = target.port ?? (state.protocol === 'https' ? 443 : 80)
    const facts = { method: state.method, host: state.host, port, path, headers: req.headers }
    const routed = runtime.router.match(facts)
    let routing = 'matched by the router'
    let match = routed
    if (input.route !== null) {
      const alone = new Router([{ route: input.route.route, target: input.route }]).match(facts)
      match = alone ?? { target: input.route, route: input.route.route, matchedLength: 0, captures: null }
      routing =
        alone === null
          ? 'named; this request does not match the route (its paths, methods, hosts or headers), explained as if it did'
          : routed?.target === input.route
            ? 'named; the router picks this route for this request too'
            : routed === null
              ? 'named; the router would match no route for this request'
              : `named; the router would pick route '${routed.target.routeName}' for this request`
    }
    if (match === null)
      return refusedWith(
        'no route matched',
        new GatehouseError('GH_ERR_ROUTE_NOT_FOUND', 'no Route matched with those values'),
      )
    const route = match.target
    state.route = route
    state.captures = match.captures

    // 3. protocol, as pipeline.ts decides it
    const verdict = routeProtocolVerdict(state, route)
    if (verdict === 'no-match') {
      state.route = null
      return refusedWith(
        routing,
        new GatehouseError('GH_ERR_ROUTE_NOT_FOUND', 'no Route matched with those values'),
      )
    }
    if (verdict === 'use-https') {
      const code = route.route.https_redirect_status_code
      const err = new GatehouseError('GH_ERR_ROUTE_PROTOCOL', 'Please use HTTPS protocol')
      if (code === 426)
        return refusedWith(routing, err, { connection: 'Upgrade', upgrade: 'TLS/1.2, HTTP/1.1' })
      state.error = err
      state.exit(code, undefined, { location: `https://${input.host}${input.target}` })
      return explained(routing, outcomeOf(state, dryRun))
    }
    if (verdict !== null) return refusedWith(routing, verdict)

    // 4. prepare
    const upstream = upstreamPathFor(route.route, route.service, path, match.matchedLength)
    state.upstreamPath = upstream.path
    state.strippedPrefix = upstream.strippedPrefix
    prepareUpstreamRequest(state, trustedPeer, input.peer, port)

    // 5. access, as a dry run
    if (route.chain.consumerScoped) state.chosenInstances = new Array(route.chain.steps.length).fill(null)
    await runAccessPhaseDry(state, dryRun)
    if (dryRun.failure !== null) exitWithError(state, dryRun.failure, dryRun.failure.status, undefined)
    return explained(routing, outcomeOf(state, dryRun))
  } finally {
    socket.destroy()
  }
}

/**
 * A request with no connection and no body. The headers go through `_addHeaderLines`, the method Node's
 * own HTTP parser hands raw header lines to, so `headers` and `headersDistinct` come out as for a real
 * request (repeated lines joined, or the first kept for singletons such as Authorization).
 */
function syntheticRequest(input: ExplainInput) {
  const socket = new Socket()
  Object.defineProperty(socket, 'remoteAddress', { value: input.peer })
  if (isTls(input.protocol)) Object.defineProperty(socket, 'encrypted', { value: true })
  const req = new IncomingMessage(socket)
  req.method = input.method
  req.url = input.target
  const grpc = input.protocol === 'grpc' || input.protocol === 'grpcs'
  req.httpVersion = grpc ? '2.0' : '1.1'
  req.httpVersionMajor = grpc ? 2 : 1
  req.httpVersionMinor = grpc ? 0 : 1
  const raw = ['Host', input.host, ...input.rawHeaders]
  const named = (name: string) => input.rawHeaders.some((v, i) => i % 2 === 0 && v.toLowerCase() === name)
  if (input.protocol === 'ws' || input.protocol === 'wss') {
    // The handshake's own headers (a client cannot give Connection or Upgrade here); a key when none is given.
    raw.push('Connection', 'Upgrade', 'Upgrade', 'websocket')
    if (!named('sec-websocket-version')) raw.push('Sec-WebSocket-Version', '13')
    if (!named('sec-websocket-key')) raw.push('Sec-WebSocket-Key', randomBytes(16).toString('base64'))
    ;(req as IncomingMessage & { upgrade: boolean }).upgrade = true
  }
  if (grpc && !named('content-type')) raw.push('Content-Type', 'application/grpc')
  ;(req as unknown as { _addHeaderLines(lines: string[], n: number): void })._addHeaderLines(raw, raw.length)
  req.push(null)
  return { req, res: new ServerResponse(req), socket }
}

function explanation(
  state: RequestState,
  protocol: ExplainProtocol,
  dropped: readonly string[],
  routing: string,
  dryRun: DryRun,
  outcome: Outcome,
): Explanation {
  const route = state.route
  const consumer = state.consumer
  const p = state.principal
  return {
    request: {
      method: state.method,
      host: state.host,
      path: state.path,
      protocol,
      client_ip: state.clientIp,
      request_id: state.requestId,
      dropped_headers: dropped,
    },
    route:
      route === null
        ? null
        : {
            id: route.route.id,
            name: route.route.name ?? null,
            service:
              route.service === null ? null : { id: route.service.id, name: route.service.name ?? null },
          },
    routing,
    plugins: dryRun.verdicts,
    consumer:
      consumer === null
        ? null
        : { id: consumer.id, username: consumer.username, custom_id: consumer.custom_id },
    credential: state.credential === null ? null : { id: state.credential.id },
    caller:
      p === null
        ? null
        : {
            subject: p.subject,
            kind: p.kind,
            method: p.method,
            issuer: p.issuer,
            client_id: p.clientId,
            scopes: p.scopes,
          },
    outcome,
  }
}

/** Whether the client reached the gateway over TLS. */
function isTls(protocol: ExplainProtocol): boolean {
  return protocol === 'https' || protocol === 'wss' || protocol === 'grpcs'
}
