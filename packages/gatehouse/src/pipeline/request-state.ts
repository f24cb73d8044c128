/**
 * The state of one request as it moves through the pipeline. Every field is set in the constructor so
 * all instances share one hidden class (the V8 reason fastify's same-shape test exists); plugins read and
 * change the request through it, never through the raw Node objects.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ConsumerEntity } from '../config/model.ts'
import type { GatehouseError } from '../errors/errors.ts'
import type { RouteMetrics } from '../observability/metrics.ts'
import type { RequestTrace } from '../observability/tracing/request-trace.ts'
import { letBodyCome } from '../proxy/expect-continue.ts'
import { announcedOver, bodyLimitError, type StreamedBodyLimit } from './body-limit.ts'
import type { DryRun } from './dry-run.ts'
import type { PluginInstance } from './plugin-chain.ts'
import type { Principal } from './principal.ts'
import type { RouteContext } from './route-context.ts'
import type { GatewayRuntime } from './runtime.ts'
import type { WebSockets } from './websocket.ts'

export type HeaderValue = string | string[]
export type HeaderMap = Record<string, HeaderValue>

/**
 * A header map's prototype: an object without one. Header names come from clients and upstreams, so a
 * map must have no inherited members (`constructor`, `toString`) and no `__proto__` setter (a header of
 * that name is an own member, like any other): what `Object.create(null)` gives. But V8 makes an object
 * without a prototype a hash table from the start, and maps built with `new` have hidden classes like any
 * object: a request's two header maps cost less than half as much to fill and read (issue 11).
 */
const HeaderMapObject = function HeaderMapObject() {} as unknown as new () => HeaderMap
HeaderMapObject.prototype = Object.create(null)
Object.freeze(HeaderMapObject.prototype)

/** An empty header map (see HeaderMapObject). */
export function newHeaderMap(): HeaderMap {
  return new HeaderMapObject()
}

/**
 * `h` without the headers named in `names`: `h` itself when it has none of them, else a new map of the
 * others, in their order. For removing headers a map holds on every request (a credential an auth plugin
 * conceals): `delete` of a member an object has turns it into a hash table, slower to read for every step
 * after it (undici walks the map once more), while a copy of a dozen headers keeps its hidden class.
 */
export function withoutHeaders(h: HeaderMap, names: readonly string[]): HeaderMap {
  let found = false
  for (const name of names) if (Object.hasOwn(h, name)) found = true
  if (!found) return h
  const out = newHeaderMap()
  for (const name in h) if (!names.includes(name)) out[name] = h[name]!
  return out
}

/** The authenticated credential (Kong's `X-Credential-Identifier` comes from `identifier`). */
export interface CredentialRef {
  readonly id: string
  readonly identifier: string
}

/** The caller's internal token for an audience (the bare JWS); rejects when it cannot be signed. */
export interface InternalTokenSource {
  forAudience(audience: readonly string[]): string | Promise<string>
}

/** What the listener shares with every request it serves. */
/** A WebSocket handshake on its way: what the tunnel reports to when it ends. */
export interface WebSocketHandshake {
  /** The tunnel is open (the upstream answered 101). */
  opened: boolean
  /** Called once, when the tunnel has closed both sides; logs and counts the request (pipeline.ts). */
  readonly closed: (state: RequestState) => void
  /** The node's tunnels and their metrics; null in a dry run (explain.ts), which never opens a tunnel. */
  readonly websockets: WebSockets | null
}

export interface ProxyContext {
  /** True once shutdown began: responses close their connection, no retries start. */
  readonly draining: boolean
  /** True once the shutdown timeout passed and the gateway closes the requests still running. */
  readonly cutting: boolean
}

/** An upstream exchange in flight, cancellable when the client goes away. */
export interface InflightUpstream {
  abort(reason: Error): void
}

/**
 * Sees an upstream response as it streams to the client, without holding it up or buffering it for the
 * client (a response cache capturing the body, say). A plugin registers one with `state.tapResponse` in
 * its access phase; forward.ts calls it for the upstream's response only (not for exits, errors or
 * composition routes). Methods must not throw and must not change what they are given.
 */
export interface ResponseTap {
  /**
   * The upstream's status and end-to-end headers, before any plugin's response phase changes them (copy
   * what you keep: the object is the one sent to the client). Return false to see nothing more of it.
   */
  start(status: number, headers: Readonly<HeaderMap>): boolean
  /** A body chunk, as it is written to the client. */
  data(chunk: Buffer): void
  /** The body arrived whole. */
  end(): void
  /** The body will not arrive whole: the upstream failed or the client went away. */
  abort(): void
}

/** A part of a composition route that failed: its name, why (a GH_ERR_* code) and its status if it answered. */
export interface FailedPart {
  readonly name: string
  readonly code: string
  readonly status: number | null
}

export interface ResponseHead {
  status: number
  /** Lower-cased names; plugins edit this in their `response` phase. */
  headers: HeaderMap
}

export class RequestState {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly proxy: ProxyContext
  /** The runtime this request started on; a reload does not change it mid-request. */
  readonly runtime: GatewayRuntime
  /** performance.now() when the request arrived. */
  readonly startedAt: number
  readonly requestId: string
  readonly method: string
  /** Normalised path (RFC 3986), no query. */
  readonly path: string
  /** Raw query string including its `?`, or ''. */
  readonly query: string
  readonly protocol: 'http' | 'https'
  /** Host header without port, lower-cased ('' when absent). */
  readonly host: string
  readonly clientIp: string

  route: RouteContext | null
  /**
   * Answered by the gateway itself before routing (the identity provider, the internal-token JWKS): the
   * series it counts under, whose labels the access log shows too; null otherwise.
   */
  builtin: RouteMetrics | null
  /** Captures of a regex route path. */
  captures: Readonly<Record<string, string>> | null
  /** Path prefix removed by strip_path ('' when none). */
  strippedPrefix: string

  upstreamMethod: string
  upstreamPath: string
  upstreamQuery: string
  /** Headers for the upstream request, lower-cased names; built after routing. */
  upstreamHeaders: HeaderMap
  /**
   * The body to send upstream when a plugin had to read it (`readBody`), possibly edited; null means the
   * client's body is streamed through unread, which is the normal case.
   */
  upstreamBody: Buffer | null

  consumer: ConsumerEntity | null
  credential: CredentialRef | null
  /** Who called, however they authenticated (principal.ts); null until an auth plugin identifies them. */
  principal: Principal | null
  /**
   * Internal tokens of this caller for other audiences, offered by the internal-token plugin once it
   * has resolved the caller (composition routes call several services, each with its own audience);
   * null when the route mints none or the caller is anonymous.
   */
  internalTokens: InternalTokenSource | null

  /** Set by `exit()`, an error, or the upstream's response. */
  response: ResponseHead | null
  /** Body of a gateway-generated response (exit or error); null when streaming the upstream's. */
  responseBody: string | Buffer | null
  /** True once a plugin or the gateway has decided the response; the rest of the access phase is skipped. */
  exited: boolean
  error: GatehouseError | null

  /** performance.now() when the request was sent upstream, -1 if never. */
  upstreamStartedAt: number
  /** Milliseconds until upstream response headers, -1 if none. */
  upstreamLatency: number
  /** Plugin steps whose access phase ran; their response and log phases run too. */
  stepsRun: number
  /** Instance each step chose, recorded only on chains with consumer-scoped plugins (else null). */
  chosenInstances: (PluginInstance | null)[] | null
  /** Upstream attempts made (retries + 1). */
  attempts: number
  /** Response body bytes sent to the client. */
  bytesSent: number
  /**
   * The status the client got, as the access log and metrics count it (499 when the client left, 503 when
   * the shutdown timeout cut the request); set when the log phase starts, 0 before.
   */
  finalStatus: number
  /** Milliseconds from the request's arrival to the end of its response; set with `finalStatus`, -1 before. */
  totalLatency: number
  /** The upstream exchange in flight, if any. */
  inflight: InflightUpstream | null
  /** Parts of a composition route that failed, for the access log; null elsewhere or when none did. */
  failedParts: readonly FailedPart[] | null
  /** Taps on the upstream response (`tapResponse`); null when no plugin asked, which costs nothing. */
  responseTaps: ResponseTap[] | null
  /** Kong's correlation id (the correlation-id plugin), logged as `correlation_id`; null without one. */
  correlationId: string | null
  /**
   * A bound on a body of unannounced length a plugin set in its access phase (request-size-limiting),
   * counted as the body streams upstream or is read (body-limit.ts); null for none.
   */
  bodyLimit: StreamedBodyLimit | null
  /**
   * Non-null when this request is a dry run (POST /explain, dry-run.ts): it is never forwarded, and a
   * plugin does nothing that outlives it (counts, signs, stores, refreshes, sets cookies), saying instead
   * what it would have done. Null for every real request.
   */
  dryRun: DryRun | null
  /**
   * Non-null when this request is a WebSocket handshake the route lets through (pipeline.ts, step 3):
   * forward.ts asks the upstream to upgrade, and a 101 opens a tunnel (websocket.ts) that calls `closed`
   * once both sides are gone.
   */
  websocket: WebSocketHandshake | null
  /**
   * A gRPC request (content-type application/grpc…, as Kong tells one): the gateway's own answers go
   * out as gRPC statuses (grpc-status.ts), and a grpc route forwards it over HTTP/2 (grpc-forward.ts).
   */
  grpc: boolean
  /** The HTTP status a gRPC refusal stands for (it is sent as 200 + grpc-status), for logs and metrics; 0 if none. */
  grpcRefusedStatus: number
  /**
   * The call's gRPC status as the client got it (the upstream's `grpc-status`, or the gateway's own for a
   * refusal, a deadline or a broken call), for the access log; -1 when none was sent (not gRPC, or cut).
   */
  grpcStatus: number
  /**
   * The request's trace when a tracing plugin (opentelemetry) applies to it; null otherwise, and then
   * no span is made anywhere (every tracing step checks this field first).
   */
  trace: RequestTrace | null

  /** Scratch space for plugins, keyed by plugin name; created on first use. */
  #shared: Map<string, unknown> | null
  #bodyRead: Promise<Buffer> | null

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    proxy: ProxyContext,
    runtime: GatewayRuntime,
    fields: {
      startedAt: number
      requestId: string
      method: string
      path: string
      query: string
      protocol: 'http' | 'https'
      host: string
      clientIp: string
    },
  ) {
    this.req = req
    this.res = res
    this.proxy = proxy
    this.runtime = runtime
    this.startedAt = fields.startedAt
    this.requestId = fields.requestId
    this.method = fields.method
    this.path = fields.path
    this.query = fields.query
    this.protocol = fields.protocol
    this.host = fields.host
    this.clientIp = fields.clientIp
    this.route = null
    this.builtin = null
    this.captures = null
    this.strippedPrefix = ''
    this.upstreamMethod = fields.method
    this.upstreamPath = fields.path
    this.upstreamQuery = fields.query
    this.upstreamHeaders = newHeaderMap()
    this.upstreamBody = null
    this.consumer = null
    this.credential = null
    this.principal = null
    this.internalTokens = null
    this.response = null
    this.responseBody = null
    this.exited = false
    this.error = null
    this.upstreamStartedAt = -1
    this.upstreamLatency = -1
    this.stepsRun = 0
    this.chosenInstances = null
    this.attempts = 0
    this.bytesSent = 0
    this.finalStatus = 0
    this.totalLatency = -1
    this.inflight = null
    this.failedParts = null
    this.responseTaps = null
    this.correlationId = null
    this.bodyLimit = null
    this.dryRun = null
    this.websocket = null
    this.grpc = false
    this.grpcRefusedStatus = 0
    this.grpcStatus = -1
    this.trace = null
    this.#shared = null
    this.#bodyRead = null
  }

  /**
   * Ends the request from a plugin: no later access handler runs and nothing is sent upstream. `body`
   * objects are sent as JSON. Response-phase handlers of the plugins that ran still see the response.
   */
  exit(status: number, body?: unknown, headers?: HeaderMap): void {
    const h = newHeaderMap()
    if (headers) for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v
    let payload: string | Buffer | null = null
    if (body !== undefined && body !== null) {
      if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body
      else {
        payload = JSON.stringify(body)
        h['content-type'] ??= 'application/json; charset=utf-8'
      }
    }
    this.response = { status, headers: h }
    this.responseBody = payload
    this.exited = true
  }

  /**
   * Reads the whole client body for a plugin that must look inside it: at most `limit` bytes
   * (proxy.max_buffered_body_size unless a plugin asks for less), else a 413 GatehouseError, at once
   * when Content-Length announces more. Read once per request, whichever plugins ask; from then on
   * `upstreamBody` is what goes upstream (with its own Content-Length), and plugins may replace it.
   * A plugin that calls this should also implement `readsBody` (plugins/types.ts).
   */
  readBody(limit: number = this.runtime.config.settings.proxy.max_buffered_body_size): Promise<Buffer> {
    if (this.#bodyRead === null && announcedOver(this, limit) !== -1)
      return Promise.reject(bodyLimitError(limit))
    if (this.#bodyRead === null) letBodyCome(this.res)
    // A plugin's tighter bound on this body (bodyLimit) refuses it with that plugin's answer.
    const bound = this.bodyLimit
    const tighter = bound !== null && bound.bytes < limit
    this.#bodyRead ??= readWhole(
      this.req,
      tighter ? bound.bytes : limit,
      tighter ? bound.error : bodyLimitError(limit),
    ).then((body) => {
      this.upstreamBody = body
      return body
    })
    return this.#bodyRead
  }

  /** Shows the upstream's response to `tap` as it streams to the client (see ResponseTap). */
  tapResponse(tap: ResponseTap): void {
    if (this.responseTaps === null) this.responseTaps = [tap]
    else this.responseTaps.push(tap)
  }

  setUpstreamHeader(name: string, value: HeaderValue): void {
    this.upstreamHeaders[name.toLowerCase()] = value
  }

  removeUpstreamHeader(name: string): void {
    delete this.upstreamHeaders[name.toLowerCase()]
  }

  /** Per-request data a plugin keeps between its phases. */
  shared<T>(key: string, init: () => T): T {
    this.#shared ??= new Map()
    let v = this.#shared.get(key) as T | undefined
    if (v === undefined) {
      v = init()
      this.#shared.set(key, v)
    }
    return v
  }
}

function readWhole(req: IncomingMessage, limit: number, tooLarge: Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.off('data', onData)
        // The rest is read and dropped, as the admin API does: the client sees the 413 rather than a
        // reset, and the connection serves its next request. (Paused, it would stall instead.)
        req.resume()
        reject(tooLarge)
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks, size)))
    req.once('error', reject)
  })
}
