/**
 * Forwarding a gRPC call (a grpc/grpcs route) to its upstream over HTTP/2 (proxy/h2-sessions.ts): the
 * request's messages stream to the upstream and the response's back, each with backpressure (a side
 * that cannot take more pauses the other); the upstream's trailers (grpc-status, grpc-message, its
 * metadata) reach the client as trailers, and a trailers-only answer stays one. Deadlines: the client's
 * `grpc-timeout` is passed on less the time already spent, and when it passes first the upstream's stream
 * is cancelled (RST_STREAM CANCEL) and the client gets DEADLINE_EXCEEDED (4). The service's timeouts
 * bound the connect (connect_timeout) and the silence of the stream either way (read_timeout).
 */
import {
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2'
import { isIP } from 'node:net'
import type { Span } from '@opentelemetry/api'
import { GatehouseError } from '../errors/errors.ts'
import type { Endpoint } from '../proxy/endpoint.ts'
import { http2Sessions } from '../proxy/h2-sessions.ts'
import { type Outcome, outcomeOfError } from '../proxy/health.ts'
import { HOP_BY_HOP } from '../proxy/hop-headers.ts'
import { ClientGoneError, classifyUpstreamError } from './forward.ts'
import { runResponsePhase } from './plugin-phases.ts'
import type { HeaderMap, RequestState } from './request-state.ts'
import { respondWithError } from './respond.ts'
import { VIA } from './upstream-request.ts'

const UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 }

/** `grpc-timeout` in milliseconds (gRPC's HTTP/2 protocol: 1–8 digits and a unit), or -1 when absent or malformed. */
export function grpcTimeoutMs(value: string | string[] | undefined): number {
  if (typeof value !== 'string') return -1
  const m = /^(\d{1,8})([HMSmun])$/.exec(value)
  return m === null ? -1 : Number(m[1]) * UNITS[m[2]!]!
}

export function forwardGrpc(state: RequestState): void {
  const ctx = state.route!
  const service = ctx.service!
  const balanced = ctx.upstream!.balanced
  let endpoint: Endpoint | null = null
  let authority: string
  let servername: string | null
  if (balanced !== null) {
    if (!balanced.balancer.isReady) {
      balanced.balancer.ready.then(() => {
        if (!state.res.destroyed) forwardGrpc(state)
      })
      return
    }
    endpoint = balanced.acquire(null)
    if (endpoint === null) {
      respondWithError(state, balanced.noEndpoint())
      return
    }
    authority = endpoint.authority
    servername = endpoint.servername
  } else {
    authority = new URL(ctx.upstream!.origin).host
    servername = isIP(service.host) === 0 ? service.host : null
  }
  new GrpcExchange(state, endpoint).start(authority, servername)
}

/** One gRPC call through the gateway; state.inflight while it runs (the pipeline aborts it if the client goes). */
class GrpcExchange {
  readonly #state: RequestState
  readonly #endpoint: Endpoint | null
  #stream: ClientHttp2Stream | null = null
  #deadline: NodeJS.Timeout | null = null
  #outcome: Outcome = null
  #done = false
  /** The call's CLIENT span when the request is traced and sampled; its context is the upstream's traceparent. */
  #span: Span | null = null
  #failure: string | null = null

  constructor(state: RequestState, endpoint: Endpoint | null) {
    this.#state = state
    this.#endpoint = endpoint
  }

  start(authority: string, servername: string | null): void {
    const state = this.#state
    const service = state.route!.service!
    const timeout = grpcTimeoutMs(state.req.headers['grpc-timeout'])
    const trace = state.trace
    if (trace !== null)
      this.#span = trace.client(
        `upstream ${state.route!.serviceName}`,
        {
          method: 'POST',
          scheme: service.grpc ? (service.protocol === 'https' ? 'grpcs' : 'grpc') : service.protocol,
          host: service.host,
          port: service.port,
          path: state.upstreamPath,
        },
        state.upstreamHeaders,
      )
    const headers = this.#requestHeaders(timeout)
    state.attempts++
    state.inflight = this
    state.upstreamStartedAt = performance.now()
    if (timeout >= 0) this.#deadline = setTimeout(this.#onDeadline, Math.max(0, timeout))
    let stream: ClientHttp2Stream
    try {
      stream = http2Sessions.session(service, authority, servername).request(headers)
    } catch (err) {
      this.#fail(err as Error)
      return
    }
    this.#stream = stream
    stream.setTimeout(service.read_timeout, () => {
      const err = new Error('upstream stream idle for read_timeout') as Error & { code: string }
      err.code = 'UND_ERR_BODY_TIMEOUT'
      this.#fail(err)
    })
    stream.on('response', (head, flags) => this.#onResponse(head, flags))
    stream.on('trailers', (trailers) => {
      const grpcStatus = grpcStatusIn(trailers)
      state.grpcStatus = grpcStatus
      if (this.#span !== null && grpcStatus >= 0) this.#span.setAttribute('rpc.grpc.status_code', grpcStatus)
      const out = endToEnd(trailers)
      if (Object.keys(out).length > 0) state.res.addTrailers(out)
    })
    stream.on('data', (chunk: Buffer) => {
      state.bytesSent += chunk.length
      if (!state.res.write(chunk)) {
        stream.pause()
        state.res.once('drain', () => stream.resume())
      }
    })
    stream.on('end', () => {
      this.#finish()
      if (!state.res.writableEnded) state.res.end()
    })
    stream.on('error', (err) => this.#fail(err))
    stream.on('close', () => {
      // Reset by the upstream (or its session gone) without an answer or an end.
      if (!this.#done) this.#fail(Object.assign(new Error('upstream stream reset'), { code: 'ECONNRESET' }))
    })
    // The client's messages, paced by the upstream's flow control.
    state.req.pipe(stream)
  }

  abort(reason: Error & { code?: string }): void {
    if (this.#done) return
    this.#failure = reason.code ?? reason.name
    this.#finish()
    this.#stream?.close(constants.NGHTTP2_CANCEL)
  }

  #requestHeaders(timeout: number): OutgoingHttpHeaders {
    const state = this.#state
    const out: OutgoingHttpHeaders = Object.create(null)
    const upstream = state.upstreamHeaders
    for (const name in upstream) {
      if (HOP_BY_HOP.has(name) || name === 'host' || name === 'http2-settings') continue
      out[name] = upstream[name]
    }
    out[':method'] = state.upstreamMethod
    out[':path'] = state.upstreamPath + state.upstreamQuery
    out[':authority'] = upstream.host as string
    out[':scheme'] = state.route!.service!.protocol
    // gRPC servers require it (it tells them trailers will be read); hop-by-hop otherwise.
    out.te = 'trailers'
    if (timeout >= 0) out['grpc-timeout'] = `${Math.max(1, Math.ceil(timeout))}m`
    return out
  }

  #onResponse(head: IncomingHttpHeaders, flags: number): void {
    const state = this.#state
    const res = state.res
    const status = Number(head[':status'])
    this.#outcome = status
    state.upstreamLatency = performance.now() - state.upstreamStartedAt
    if (res.destroyed) {
      this.abort(new ClientGoneError('client closed the connection'))
      return
    }
    state.response = { status, headers: endToEnd(head) }
    const via = state.response.headers.via
    state.response.headers.via = via ? `${via}, ${VIA}` : VIA
    runResponsePhase(state)
    const headers = state.response.headers
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      // Trailers-only (a status without messages): kept one HEADERS frame, as the client expects.
      state.grpcStatus = grpcStatusIn(head)
      this.#finish()
      for (const name in headers) res.setHeader(name, headers[name] as string | string[])
      res.statusCode = state.response.status
      res.end()
      return
    }
    res.writeHead(state.response.status, headers)
  }

  readonly #onDeadline = (): void => {
    this.#deadline = null
    const state = this.#state
    const err = new GatehouseError('GH_ERR_GRPC_DEADLINE_EXCEEDED', 'Deadline Exceeded', {
      detail: 'grpc_timeout',
    })
    this.abort(err)
    if (state.res.destroyed || state.res.writableEnded) return
    if (state.res.headersSent) {
      state.error = err
      state.grpcStatus = 4
      state.res.addTrailers({ 'grpc-status': '4', 'grpc-message': 'Deadline Exceeded' })
      state.res.end()
    } else respondWithError(state, err)
  }

  #fail(err: Error & { code?: string }): void {
    if (this.#done) return
    if (this.#outcome === null) this.#outcome = outcomeOfError(err)
    this.#failure = err.code ?? err.name
    this.#finish()
    this.#stream?.close(constants.NGHTTP2_CANCEL)
    const state = this.#state
    const res = state.res
    if (res.destroyed || res.writableEnded) return
    const failure =
      classifyUpstreamError(err) ?? new GatehouseError('GH_ERR_UPSTREAM_UNAVAILABLE', 'upstream')
    if (res.headersSent) {
      // Messages already went out: the call ends with a status in the trailers.
      state.error = failure
      state.grpcStatus = 14
      res.addTrailers({ 'grpc-status': '14', 'grpc-message': failure.message })
      res.end()
      return
    }
    respondWithError(state, failure)
  }

  #finish(): void {
    if (this.#done) return
    this.#done = true
    if (this.#deadline !== null) clearTimeout(this.#deadline)
    if (this.#endpoint !== null) this.#state.route!.upstream!.balanced!.release(this.#endpoint, this.#outcome)
    if (this.#state.inflight === this) this.#state.inflight = null
    const span = this.#span
    if (span !== null) {
      this.#span = null
      this.#state.trace!.endClient(
        span,
        typeof this.#outcome === 'number' ? this.#outcome : null,
        this.#failure,
      )
    }
  }
}

/** Response headers or trailers without pseudo-headers and connection-specific fields. */
function endToEnd(headers: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = Object.create(null)
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* : */ || HOP_BY_HOP.has(name)) continue
    const value = headers[name]
    if (value !== undefined) out[name] = value
  }
  return out
}

/** The `grpc-status` an upstream sent (0–16 are defined, but any integer is passed on), or -1 for none. */
function grpcStatusIn(headers: IncomingHttpHeaders): number {
  const value = headers['grpc-status']
  return typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : -1
}
