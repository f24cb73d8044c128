/**
 * A service's way to its upstream's balancer: the service's connection settings (scheme, timeouts, TLS)
 * applied to whichever endpoint the balancer chooses. The proxy path (pipeline/forward.ts) chooses and
 * reports each attempt itself, so retries can avoid endpoints that failed; everything else that only
 * needs "a request to this service" (composition parts) uses it as an undici Dispatcher, which chooses
 * an endpoint per request and reports its outcome the same way.
 */
import { Dispatcher } from 'undici'
import { GatehouseError } from '../errors/errors.ts'
import type { Balancer } from './balancer.ts'
import type { Endpoint } from './endpoint.ts'
import { type Outcome, outcomeOfError } from './health.ts'

/** Kong's body for this case (kong/runloop/balancer), so clients matching on it keep working. */
const NO_PEER = 'failure to get a peer from the ring-balancer'

export class BalancedUpstream extends Dispatcher {
  readonly balancer: Balancer
  /** The upstream's host_header, or null to send each target's own `host[:port]` (Kong). */
  readonly fixedHost: string | null
  readonly #defaultPort: number
  readonly #settingsKey: string
  readonly #poolFor: (endpoint: Endpoint) => Dispatcher

  constructor(
    balancer: Balancer,
    protocol: 'http' | 'https',
    settingsKey: string,
    poolFor: (endpoint: Endpoint) => Dispatcher,
  ) {
    super()
    this.balancer = balancer
    this.fixedHost = balancer.upstream.host_header
    this.#defaultPort = protocol === 'https' ? 443 : 80
    this.#settingsKey = settingsKey
    this.#poolFor = poolFor
  }

  /** See Balancer.acquire. */
  acquire(avoid: readonly Endpoint[] | null): Endpoint | null {
    return this.balancer.acquire(avoid)
  }

  release(endpoint: Endpoint, outcome: Outcome): void {
    this.balancer.release(endpoint, outcome)
  }

  /** The pool reaching `endpoint` with this service's settings. */
  poolOf(endpoint: Endpoint): Dispatcher {
    return endpoint.pools.get(this.#settingsKey) ?? this.#poolFor(endpoint)
  }

  /** The Host header for `endpoint` when the route does not preserve the client's. */
  hostFor(endpoint: Endpoint): string {
    if (this.fixedHost !== null) return this.fixedHost
    return endpoint.port === this.#defaultPort ? endpoint.host : endpoint.hostHeader
  }

  /** The 503 for a request no endpoint can take. */
  noEndpoint(): GatehouseError {
    const { total, available } = this.balancer.weights()
    return new GatehouseError('GH_ERR_UPSTREAM_NO_HEALTHY_TARGET', NO_PEER, {
      detail: `upstream '${this.balancer.upstream.name}': healthy weight ${available} of ${total}`,
    })
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (!this.balancer.isReady) {
      void this.balancer.ready.then(() => this.dispatch(options, handler))
      return true
    }
    const endpoint = this.acquire(null)
    if (endpoint === null) {
      handler.onResponseError?.(null as never, this.noEndpoint())
      return false
    }
    const headers = options.headers
    const plain =
      headers !== null &&
      typeof headers === 'object' &&
      !Array.isArray(headers) &&
      !(Symbol.iterator in headers)
    const withHost =
      plain && !('host' in headers)
        ? { ...options, headers: { ...headers, host: this.hostFor(endpoint) } }
        : options
    return this.poolOf(endpoint).dispatch(withHost, new Reporting(handler, this, endpoint))
  }

  // Pools belong to the registry (proxy/upstreams.ts), which closes them; there is nothing of our own.
  override close(): Promise<void> {
    return Promise.resolve()
  }

  override destroy(): Promise<void> {
    return Promise.resolve()
  }
}

/** Passes every callback through and reports the exchange's outcome to the balancer once, at its end. */
class Reporting implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler
  readonly #upstream: BalancedUpstream
  readonly #endpoint: Endpoint
  #status: number | null = null
  #done = false

  constructor(inner: Dispatcher.DispatchHandler, upstream: BalancedUpstream, endpoint: Endpoint) {
    this.#inner = inner
    this.#upstream = upstream
    this.#endpoint = endpoint
  }

  #end(outcome: Outcome): void {
    if (this.#done) return
    this.#done = true
    this.#upstream.release(this.#endpoint, outcome)
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#inner.onRequestStart?.(controller, context)
  }

  onRequestUpgrade(...args: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>): void {
    this.#inner.onRequestUpgrade?.(...args)
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    this.#status = statusCode
    this.#inner.onResponseStart?.(controller, statusCode, headers, statusMessage)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#inner.onResponseData?.(controller, chunk)
  }

  onResponseEnd(
    controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    this.#end(this.#status)
    this.#inner.onResponseEnd?.(controller, trailers)
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#end(this.#status ?? outcomeOfError(error))
    this.#inner.onResponseError?.(controller, error)
  }

  onBodySent(chunk: Buffer): void {
    this.#inner.onBodySent?.(chunk)
  }

  onRequestSent(): void {
    this.#inner.onRequestSent?.()
  }

  onResponseStarted(): void {
    this.#inner.onResponseStarted?.()
  }
}
