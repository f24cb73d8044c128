/**
 * The trace of one request: its SERVER span (HTTP semantic conventions) and the child spans the pipeline
 * opens under it — each plugin's access phase, the upstream call (CLIENT, its context injected as the
 * upstream's `traceparent`), each composition part (CLIENT) and the internal-token enrichment lookup.
 *
 * A request carries one only when a tracing plugin applies to it (`state.trace`, null otherwise, which
 * is every check the hot path makes). Contexts are passed explicitly rather than through a context
 * manager (AsyncLocalStorage), so tracing adds no work to the requests it does not trace. A trace the
 * sampler dropped still has ids (the access log and the upstream's traceparent carry them, flags 00)
 * but opens no child spans at all.
 *
 * The pipeline reaches OpenTelemetry only through this object's methods and imports nothing but types
 * from here: only the tracing plugin loads this module (when a configuration uses it), so a process
 * that traces nothing loads no OpenTelemetry module at all.
 */
import type { IncomingHttpHeaders } from 'node:http'
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions'
import type { HeaderMap, RequestState } from '../../pipeline/request-state.ts'

/** How an instance of the tracing plugin treats trace headers (the plugin maps Kong's options onto it). */
export interface TracePolicy {
  readonly tracer: Tracer
  /** Continue the client's W3C trace (traceparent + tracestate); false starts a new trace always. */
  readonly extract: boolean
  /** Send our span's context upstream; false leaves the trace headers as the core prepared them. */
  readonly inject: boolean
  /** Request headers removed from what goes upstream once the context was read (Kong's propagation.clear). */
  readonly clear: readonly string[]
}

/** Where a CLIENT span's call goes (an upstream attempt, a composition part, a gRPC call). */
export interface ClientTarget {
  readonly method: string
  readonly scheme: string
  readonly host: string
  readonly port: number
  /** The path as sent; its query is left out of the span. */
  readonly path: string
}

const propagator = new W3CTraceContextPropagator()

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
}

/** `00-<trace-id>-<span-id>-<flags>`, W3C Trace Context level 1. */
function traceparentOf(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`
}

/** Writes `sc` as the traceparent (and tracestate) of an outgoing request. */
export function injectInto(headers: HeaderMap | Record<string, string>, sc: SpanContext): void {
  headers.traceparent = traceparentOf(sc)
  const state = sc.traceState?.serialize()
  if (state) headers.tracestate = state
  else delete headers.tracestate
}

export class RequestTrace {
  readonly #tracer: Tracer
  readonly span: Span
  /** The context holding the SERVER span: the parent of every child span. */
  readonly context: Context
  readonly traceId: string
  readonly spanId: string
  /** The sampler recorded this trace: child spans are opened and exported. */
  readonly sampled: boolean
  readonly inject: boolean
  #ended = false

  constructor(policy: TracePolicy, state: RequestState, routeLabel: string | null, httpRoute: string | null) {
    this.#tracer = policy.tracer
    this.inject = policy.inject
    const req = state.req
    const parent = policy.extract ? propagator.extract(ROOT_CONTEXT, req.headers, headerGetter) : ROOT_CONTEXT
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: state.method,
      [ATTR_URL_PATH]: state.path,
      [ATTR_URL_SCHEME]: state.protocol,
      [ATTR_CLIENT_ADDRESS]: state.clientIp,
      [ATTR_NETWORK_PROTOCOL_VERSION]: req.httpVersion,
      'gatehouse.request_id': state.requestId,
    }
    if (state.host !== '') attributes[ATTR_SERVER_ADDRESS] = state.host
    const agent = req.headers['user-agent']
    if (agent !== undefined) attributes[ATTR_USER_AGENT_ORIGINAL] = agent
    if (httpRoute !== null) attributes[ATTR_HTTP_ROUTE] = httpRoute
    if (routeLabel !== null) attributes['gatehouse.route'] = routeLabel
    const service = state.route?.service
    if (service) attributes['gatehouse.service'] = state.route!.serviceName
    // Semantic conventions: `{method} {http.route}`, or the method alone when there is no template.
    const name = httpRoute !== null ? `${state.method} ${httpRoute}` : state.method
    // The span starts when the request arrived, not when the plugin ran (as Kong's root span does).
    this.span = this.#tracer.startSpan(
      name,
      { kind: SpanKind.SERVER, attributes, startTime: state.startedAt },
      parent,
    )
    const sc = this.span.spanContext()
    this.traceId = sc.traceId
    this.spanId = sc.spanId
    this.sampled = (sc.traceFlags & TraceFlags.SAMPLED) !== 0
    this.context = trace.setSpan(parent, this.span)
    for (const name of policy.clear) delete state.upstreamHeaders[name]
  }

  /** An INTERNAL child span (a plugin's access phase, the enrichment lookup); null when not sampled. */
  child(name: string, attributes: Attributes): Span | null {
    if (!this.sampled || this.#ended) return null
    return this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, this.context)
  }

  /**
   * A CLIENT span for a call the gateway makes on the request's behalf (to `target`), with its context
   * written into `headers` so the callee's spans join this trace under it. Unsampled, no span is opened
   * and the SERVER span's context (flags 00) is sent, which keeps the trace id flowing.
   */
  client(name: string, target: ClientTarget, headers: HeaderMap | Record<string, string>): Span | null {
    if (!this.sampled || this.#ended) {
      if (this.inject) injectInto(headers, this.span.spanContext())
      return null
    }
    const attributes = clientAttributes(target)
    const span = this.#tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, this.context)
    if (this.inject) injectInto(headers, span.spanContext())
    return span
  }

  /** Ends a CLIENT span with the callee's status, or the failure's code when it never answered. */
  endClient(span: Span, status: number | null, failure: string | null): void {
    if (status !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status)
    if (failure !== null || (status !== null && status >= 500)) {
      const type = failure ?? String(status)
      span.setAttribute(ATTR_ERROR_TYPE, type)
      span.setStatus({ code: SpanStatusCode.ERROR, message: type })
    }
    span.end()
  }

  /** Ends an INTERNAL child span, as an error whose message is `failure` when there was one. */
  endChild(span: Span, failure: string | null): void {
    if (failure !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: failure })
    span.end()
  }

  /** Ends the SERVER span with the status the client got (an error for 5xx, as the conventions say). */
  end(state: RequestState): void {
    if (this.#ended) return
    this.#ended = true
    const span = this.span
    const status = state.finalStatus
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status)
    const error = state.error
    if (status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, error?.code ?? String(status))
      span.setStatus({ code: SpanStatusCode.ERROR, message: error?.code ?? '' })
    } else if (error !== null) span.setAttribute('gatehouse.error_code', error.code)
    const consumer = state.consumer
    if (consumer !== null) span.setAttribute('gatehouse.consumer', consumer.username ?? consumer.id)
    span.end(state.startedAt + state.totalLatency)
  }
}

/**
 * Attributes of a CLIENT span. `path` is without its query: a query may carry a credential
 * (`access_token`, an API key), and spans leave the gateway.
 */
function clientAttributes({ method, scheme, host, port, path }: ClientTarget): Attributes {
  const q = path.indexOf('?')
  if (q !== -1) path = path.slice(0, q)
  return {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_SERVER_ADDRESS]: host,
    [ATTR_SERVER_PORT]: port,
    [ATTR_URL_FULL]: `${scheme}://${host}:${port}${path}`,
  }
}
