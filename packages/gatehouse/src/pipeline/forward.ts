/**
 * Forwarding to the upstream through its undici Pool, streaming both ways with backpressure: the
 * client's body is handed to undici as a stream, and upstream body chunks are written to the client as
 * they arrive, pausing the upstream while the client's socket is full. Nothing is buffered whole (a
 * plugin's ResponseTap sees the same chunks and keeps what it needs, e.g. proxy-cache up to a bound).
 * Failures before the response started become 502/504. A connection failure is retried (up to the
 * service's `retries`) by what the upstream may have seen: a request of which nothing was written
 * (connection refused, connect timeout, unreachable, or a pooled connection that died before the first
 * byte) never reached it and is replayed whatever its method, body included (Envoy's connect-failure,
 * Go's nothingWrittenError); one that may have been delivered only when it is idempotent and has no
 * body (issue 10, section 5). A balanced service's attempt goes to the endpoint its balancer chooses (a
 * retry to another one when there is another), and reports what it showed for the passive health
 * checks; with no endpoint to choose the answer is 503.
 *
 * Over 400 lines: UpstreamExchange's callbacks are one state machine (written, started, retried, done),
 * read best in one place; the body's replay lives in attempt-body.ts.
 */

import type { Duplex } from 'node:stream'
import type { Span } from '@opentelemetry/api'
import type { Dispatcher } from 'undici'
import { GatehouseError } from '../errors/errors.ts'
import type { Endpoint } from '../proxy/endpoint.ts'
import { letBodyCome } from '../proxy/expect-continue.ts'
import { type Outcome, outcomeOfError } from '../proxy/health.ts'
import { connectionListed, HOP_BY_HOP } from '../proxy/hop-headers.ts'
import { requestHasBody } from '../proxy/request-body.ts'
import { AttemptBody } from './attempt-body.ts'
import { BODY_LIMIT_EXCEEDED } from './body-limit.ts'
import { runResponsePhase } from './plugin-phases.ts'
import { type HeaderMap, newHeaderMap, type RequestState, type ResponseTap } from './request-state.ts'
import { exitWithError, respondWithError, sendGatewayResponse } from './respond.ts'
import { VIA } from './upstream-request.ts'
import { openTunnel } from './websocket.ts'

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/**
 * Failures of the connection rather than answers: worth another attempt. Whether one is made depends on
 * whether anything of the request was written before it (UpstreamExchange.onResponseError).
 */
const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
])

const TIMEOUTS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'GH_WRITE_TIMEOUT',
])

/** The upstream's certificate failed verification: OpenSSL's verify results, and Node's host name check. */
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** Kong's wording for these failures, so clients that match on it keep working. */
const BAD_GATEWAY = 'An invalid response was received from the upstream server'
const GATEWAY_TIMEOUT = 'The upstream server is timing out'

export class ClientGoneError extends Error {
  readonly code = 'GH_CLIENT_GONE'
}

class WriteTimeoutError extends Error {
  readonly code = 'GH_WRITE_TIMEOUT'
}

class ClientBodyTimeoutError extends Error {
  readonly code = 'GH_CLIENT_BODY_TIMEOUT'
}

/**
 * `tried`: the endpoints earlier attempts of this request went to (balanced services); `body`: the
 * client's body as the previous attempt, which wrote nothing, leaves it for this one.
 */
export function forwardUpstream(
  state: RequestState,
  tried: readonly Endpoint[] | null = null,
  body: AttemptBody | null = null,
): void {
  const ctx = state.route!
  const service = ctx.service!
  const upstream = ctx.upstream!
  let dispatcher: Dispatcher = upstream.pool
  let endpoint: Endpoint | null = null
  const balanced = upstream.balanced
  if (balanced !== null) {
    if (!balanced.balancer.isReady) {
      // Only until the targets' names first resolve (start or reload).
      balanced.balancer.ready.then(() => {
        if (!state.res.destroyed) forwardUpstream(state, tried, body)
      })
      return
    }
    endpoint = balanced.acquire(tried)
    if (endpoint === null) {
      // A retry found every target gone: its body is let go of as in UpstreamExchange.#releaseBody.
      if (body !== null) {
        body.destroy()
        state.req.resume()
      }
      respondWithError(state, balanced.noEndpoint())
      return
    }
    dispatcher = balanced.poolOf(endpoint)
    // Each target's own Host (Kong), unless the route preserves the client's or a plugin set another.
    const headers = state.upstreamHeaders
    const placed = tried === null ? upstream.hostHeader : balanced.hostFor(tried[tried.length - 1]!)
    if (!ctx.route.preserve_host && headers.host === placed) headers.host = balanced.hostFor(endpoint)
  }
  const hasBody = requestHasBody(state.req.headers)
  const buffered = state.upstreamBody
  if (buffered !== null) state.upstreamHeaders['content-length'] = String(buffered.length)
  const streamed =
    buffered === null && hasBody
      ? (body ?? new AttemptBody(state.req, [], false, state.bodyLimit?.bytes ?? -1))
      : null
  if (streamed !== null) letBodyCome(state.res)
  const exchange = new UpstreamExchange(state, hasBody, streamed, service.write_timeout, endpoint, tried)
  const trace = state.trace
  if (trace !== null) {
    // One CLIENT span per attempt, its context the upstream's traceparent (so a retry's is its own).
    exchange.span = trace.client(
      `upstream ${ctx.serviceName}`,
      {
        method: state.upstreamMethod,
        scheme: service.protocol,
        host: service.host,
        port: service.port,
        path: state.upstreamPath,
      },
      state.upstreamHeaders,
    )
  }
  state.attempts++
  state.inflight = exchange
  state.upstreamStartedAt = performance.now()
  dispatcher.dispatch(
    {
      path: state.upstreamPath + state.upstreamQuery,
      method: state.upstreamMethod,
      headers: state.upstreamHeaders,
      body: buffered ?? streamed,
      headersTimeout: service.read_timeout,
      bodyTimeout: service.read_timeout,
      // A WebSocket handshake (websocket.ts): undici sends Connection/Upgrade and hands over a 101's socket.
      upgrade: state.websocket === null ? null : 'websocket',
    },
    exchange,
  )
}

/** Upstream error → the client-facing error, or null when it was the client who went away. */
export function classifyUpstreamError(err: Error & { code?: string }): GatehouseError | null {
  const code = err.code ?? ''
  if (code === 'GH_CLIENT_GONE') return null
  if (code === 'GH_CLIENT_BODY_TIMEOUT') {
    return new GatehouseError('GH_ERR_REQUEST_TIMEOUT', 'Timed out reading the request body', {
      detail: code,
    })
  }
  if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    return new GatehouseError('GH_ERR_REQUEST_INVALID', 'Request body does not match its Content-Length', {
      detail: code,
    })
  }
  if (CERTIFICATE_ERRORS.has(code)) {
    return new GatehouseError(
      'GH_ERR_UPSTREAM_CERTIFICATE_INVALID',
      "The upstream server's certificate could not be verified",
      { detail: `${code}: ${err.message}` },
    )
  }
  if (TIMEOUTS.has(code))
    return new GatehouseError('GH_ERR_UPSTREAM_TIMEOUT', GATEWAY_TIMEOUT, { detail: code })
  if (
    err.name === 'HTTPParserError' ||
    code.startsWith('HPE_') ||
    code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' ||
    code === 'UND_ERR_INFO'
  ) {
    return new GatehouseError('GH_ERR_UPSTREAM_INVALID_RESPONSE', BAD_GATEWAY, {
      detail: `${code}: ${err.message}`,
    })
  }
  return new GatehouseError('GH_ERR_UPSTREAM_UNAVAILABLE', BAD_GATEWAY, {
    detail: `${code || err.name}: ${err.message}`,
  })
}

/** One attempt at the upstream; undici calls these methods as the exchange progresses. */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  readonly #state: RequestState
  readonly #hasBody: boolean
  /** The client's body as this attempt streams it; null when there is none or a plugin buffered it. */
  readonly #body: AttemptBody | null
  readonly #writeTimeout: number
  /** The balanced endpoint of this attempt (null for a plain service), and the ones tried before it. */
  readonly #endpoint: Endpoint | null
  readonly #tried: readonly Endpoint[] | null
  #outcome: Outcome = null
  #controller: Dispatcher.DispatchController | null = null
  #writeTimer: NodeJS.Timeout | null = null
  #responseStarted = false
  /**
   * undici wrote part of this request to the connection, so the upstream may have it. It reports every
   * write: onBodySent follows each socket write of a body chunk (the first carrying the head), and
   * onRequestSent follows the write of a head without body or comes just before the last write of a
   * streamed one. Before either, nothing of the request left the gateway (client-h1.js writeH1 and
   * AsyncWriter, undici 8), so a failure then is one the upstream cannot have seen.
   */
  #written = false
  #done = false
  #onDrain: (() => void) | null = null
  /**
   * Body bytes still expected when the upstream sent a Content-Length (-1 otherwise): the chunk that
   * completes the body goes out with `res.end(chunk)`, so a one-chunk response leaves in one write
   * without holding back anything a streaming response (SSE, long polling) must deliver at once.
   */
  #remaining = -1
  #ended = false
  #abortReason: Error | null = null
  /** The taps (state.responseTaps) that asked to see this response's body; null when none did. */
  #taps: ResponseTap[] | null = null
  /** This attempt's CLIENT span when the request is traced and sampled (forwardUpstream sets it). */
  span: Span | null = null

  constructor(
    state: RequestState,
    hasBody: boolean,
    body: AttemptBody | null,
    writeTimeout: number,
    endpoint: Endpoint | null,
    tried: readonly Endpoint[] | null,
  ) {
    this.#state = state
    this.#hasBody = hasBody
    this.#body = body
    this.#writeTimeout = writeTimeout
    this.#endpoint = endpoint
    this.#tried = tried
  }

  /** Cancels the upstream request (the client went away, or the gateway is closing). */
  abort(reason: Error): void {
    if (this.#done) return
    if (this.#controller) this.#controller.abort(reason)
    else this.#abortReason = reason
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#abortReason) controller.abort(this.#abortReason)
    else if (this.#hasBody) this.#writeTimer = setTimeout(this.#onWriteTimeout, this.#writeTimeout)
  }

  /** The upstream switched protocols (only ever asked for a WebSocket handshake): open the tunnel. */
  onRequestUpgrade(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    socket: Duplex,
  ): void {
    const state = this.#state
    this.#responseStarted = true
    this.#outcome = statusCode
    state.upstreamLatency = performance.now() - state.upstreamStartedAt
    this.#finish()
    this.#endSpan(null)
    if (state.res.destroyed) {
      socket.destroy()
      return
    }
    state.response = { status: statusCode, headers: endToEndResponseHeaders(headers) }
    runResponsePhase(state)
    openTunnel(state, socket)
  }

  onBodySent(): void {
    this.#markWritten()
    this.#writeTimer?.refresh()
  }

  onRequestSent(): void {
    this.#markWritten()
    this.#clearWriteTimer()
  }

  #markWritten(): void {
    if (this.#written) return
    this.#written = true
    this.#body?.sent()
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    const state = this.#state
    this.#responseStarted = true
    this.#outcome = statusCode
    state.upstreamLatency = performance.now() - state.upstreamStartedAt
    const res = state.res
    if (res.destroyed) {
      controller.abort(new ClientGoneError('client closed the connection'))
      return
    }
    state.response = { status: statusCode, headers: endToEndResponseHeaders(headers) }
    const length = headers['content-length']
    this.#remaining = typeof length === 'string' && state.method !== 'HEAD' ? Number(length) : -1
    if (state.responseTaps !== null)
      this.#taps = startTaps(state.responseTaps, statusCode, state.response.headers)
    runResponsePhase(state)
    if (state.proxy.draining) res.shouldKeepAlive = false
    res.writeHead(state.response.status, state.response.headers)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const res = this.#state.res
    this.#state.bytesSent += chunk.length
    if (this.#taps !== null) for (const tap of this.#taps) tap.data(chunk)
    if (this.#remaining === chunk.length) {
      this.#ended = true
      res.end(chunk)
      // The body is whole: taps hear it now, before the client can send its next request.
      this.#endTaps()
      return
    }
    if (this.#remaining > 0) this.#remaining -= chunk.length
    if (!res.write(chunk)) {
      controller.pause()
      this.#onDrain ??= () => this.#controller?.resume()
      res.once('drain', this.#onDrain)
    }
  }

  onResponseEnd(): void {
    this.#finish()
    this.#endSpan(null)
    this.#releaseBody()
    if (!this.#ended) this.#state.res.end()
    this.#endTaps()
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error & { code?: string }): void {
    if (!this.#responseStarted) this.#outcome = outcomeOfError(err)
    const taps = this.#taps
    this.#taps = null
    if (taps !== null) for (const tap of taps) tap.abort()
    this.#finish()
    this.#endSpan(err.code ?? err.name)
    if (!this.#retriedAfter(err)) this.#releaseBody()
  }

  /** Starts the next attempt when the request may have one (true), or answers the failure (false). */
  #retriedAfter(err: Error & { code?: string }): boolean {
    const state = this.#state
    const res = state.res
    if (res.destroyed || err instanceof ClientGoneError) return false
    // The client's body crossed a plugin's bound (body-limit.ts): the plugin's answer, never a retry.
    const bound = err.code === BODY_LIMIT_EXCEEDED ? state.bodyLimit : null
    const failure = bound !== null ? bound.error : classifyUpstreamError(err)
    if (failure === null) return false
    if (this.#responseStarted || res.headersSent) {
      // The client already has a status line; the only honest signal left is a broken connection.
      state.error = failure
      res.destroy()
      return false
    }
    const service = state.route!.service!
    // Nothing written: the upstream never saw it, so any request is replayed (its body was kept). Written:
    // it may have been delivered and acted on, so only a request whose replay changes nothing more.
    const replayable = !this.#written || (!this.#hasBody && IDEMPOTENT.has(state.upstreamMethod))
    const canRetry =
      replayable &&
      CONNECTION_FAILURES.has(err.code ?? '') &&
      state.attempts <= service.retries &&
      !state.proxy.draining
    if (canRetry) {
      const endpoint = this.#endpoint
      const tried = endpoint === null ? null : [...(this.#tried ?? []), endpoint]
      forwardUpstream(state, tried, this.#body === null ? null : this.#body.next())
      return true
    }
    if (bound !== null) {
      exitWithError(state, failure, bound.status, undefined)
      sendGatewayResponse(state)
    } else respondWithError(state, failure)
    return false
  }

  #endSpan(failure: string | null): void {
    const span = this.span
    if (span === null) return
    this.span = null
    // A span is only opened on a traced request, so the trace is there.
    this.#state.trace!.endClient(span, this.#responseStarted ? (this.#outcome as number) : null, failure)
  }

  #finish(): void {
    if (this.#done) return
    this.#done = true
    if (this.#endpoint !== null) this.#state.route!.upstream!.balanced!.release(this.#endpoint, this.#outcome)
    this.#clearWriteTimer()
    if (this.#state.inflight === this) this.#state.inflight = null
  }

  /**
   * The exchange is over and no attempt follows: what the client still sends of its body (an answer can
   * come before it ends) is read and dropped, as node:http does with a body nobody read (but not with one
   * we began to read), so the connection reaches its next request instead of stalling in this body.
   */
  #releaseBody(): void {
    const body = this.#body
    if (body === null) return
    body.destroy()
    this.#state.req.resume()
  }

  #endTaps(): void {
    const taps = this.#taps
    this.#taps = null
    if (taps !== null) for (const tap of taps) tap.end()
  }

  #clearWriteTimer(): void {
    if (this.#writeTimer !== null) {
      clearTimeout(this.#writeTimer)
      this.#writeTimer = null
    }
  }

  /**
   * No body chunk went upstream for write_timeout. If undici paused the client stream, the upstream is
   * not reading (504); otherwise the client is not sending (408).
   */
  readonly #onWriteTimeout = (): void => {
    this.#writeTimer = null
    const upstreamStalled = this.#body === null || this.#body.upstreamStalled
    this.#controller?.abort(
      upstreamStalled
        ? new WriteTimeoutError('upstream did not accept the request body in time')
        : new ClientBodyTimeoutError('client did not send the request body in time'),
    )
  }
}

/** The taps that want this response's body, or null when none does. */
function startTaps(taps: readonly ResponseTap[], status: number, headers: HeaderMap): ResponseTap[] | null {
  const wanting = taps.filter((tap) => tap.start(status, headers))
  return wanting.length > 0 ? wanting : null
}

/** Upstream response headers minus hop-by-hop ones, plus our Via. */
function endToEndResponseHeaders(headers: Record<string, string | string[] | undefined>): HeaderMap {
  const out = newHeaderMap()
  const listed = connectionListed(headers.connection)
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue
    out[name] = value
  }
  const via = out.via
  out.via = via ? `${Array.isArray(via) ? via.join(', ') : via}, ${VIA}` : VIA
  return out
}
