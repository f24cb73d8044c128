/**
 * Prometheus metrics (prom-client) on a registry of our own. Label values are bound once per route and
 * status code (prom-client still hashes them on each record). Requests that match no route (404, or 400
 * for a bad request target) belong under `unmatched`, i.e. `service=""` and `route=""`, as in Kong's
 * prometheus plugin.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

type Labels = 'service' | 'route' | 'code'

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export class GatewayMetrics {
  readonly registry = new Registry()
  readonly requests = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'Requests answered by the proxy, by service, route and status code.',
    labelNames: ['service', 'route', 'code'] as const,
    registers: [this.registry],
  })
  readonly requestDuration = new Histogram({
    name: 'gatehouse_request_duration_seconds',
    help: 'Time from receiving the request to the end of the response, by service, route and status code.',
    labelNames: ['service', 'route', 'code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  })
  readonly upstreamDuration = new Histogram({
    name: 'gatehouse_upstream_duration_seconds',
    help: 'Time from sending the request upstream to receiving its response headers, by service and route.',
    labelNames: ['service', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  })
  readonly configReloads = new Counter({
    name: 'gatehouse_config_reloads_total',
    help: 'Configuration loads after start, by result (success or failure).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  })
  readonly configInfo = new Gauge({
    name: 'gatehouse_config_info',
    help: 'The configuration in use (value 1), labelled by its sha256 hash.',
    labelNames: ['hash'] as const,
    registers: [this.registry],
  })
  readonly connections = new Gauge({
    name: 'gatehouse_proxy_connections',
    help: 'Open client connections on the proxy listener.',
    registers: [this.registry],
  })

  /** For requests answered before any route matched. */
  readonly unmatched: RouteMetrics

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    // Both series exist from the start, so `increase()` sees the first reload and alerts see zero failures.
    for (const result of ['success', 'failure']) this.configReloads.labels(result).inc(0)
    this.unmatched = this.forRoute('', '')
  }

  /** Label children for one route, cached by status code. */
  forRoute(service: string, route: string): RouteMetrics {
    return new RouteMetrics(this, service, route)
  }

  setConfigHash(hash: string): void {
    this.configInfo.reset()
    this.configInfo.labels(hash).set(1)
  }
}

export class RouteMetrics {
  readonly #metrics: GatewayMetrics
  readonly #service: string
  readonly #route: string
  readonly #byCode = new Map<number, { count: Counter.Internal; duration: Histogram.Internal<Labels> }>()
  readonly #upstream: Histogram.Internal<'service' | 'route'>

  constructor(metrics: GatewayMetrics, service: string, route: string) {
    this.#metrics = metrics
    this.#service = service
    this.#route = route
    this.#upstream = metrics.upstreamDuration.labels(service, route)
  }

  record(code: number, seconds: number, upstreamSeconds: number): void {
    let children = this.#byCode.get(code)
    if (!children) {
      const label = String(code)
      children = {
        count: this.#metrics.requests.labels(this.#service, this.#route, label),
        duration: this.#metrics.requestDuration.labels(this.#service, this.#route, label),
      }
      this.#byCode.set(code, children)
    }
    children.count.inc()
    children.duration.observe(seconds)
    if (upstreamSeconds >= 0) this.#upstream.observe(upstreamSeconds)
  }
}
