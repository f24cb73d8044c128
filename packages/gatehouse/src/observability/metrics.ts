/**
 * Prometheus metrics on a prom-client registry of our own. The per-request series (requests, latency,
 * upstream latency by service, route and status) are plain counters in typed arrays, bound to their
 * labels once per route: recording a request is a few array increments, where prom-client would hash
 * the label set three times. They are turned into Prometheus text only when /metrics is scraped.
 * Series survive reloads (same service and route names, same series). Requests that match no route
 * (404, or 400 for a bad request target) count under `service=""` and `route=""`, as in Kong's
 * prometheus plugin; the endpoints the gateway answers itself before routing count under their own
 * reserved route label (BUILTIN_ROUTES). docs/metrics.md lists every family and label (parity-tested).
 *
 * With several workers (cluster/primary.ts) the primary's /metrics is the sum over the workers and
 * itself (`text()`): counters and histograms add up, per-worker series carry a `worker` label, and the
 * configuration's own series (reloads, hash) are the primary's, taken once.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  type MetricObjectWithValues,
  type MetricValue as PromValue,
  Registry,
} from 'prom-client'
import { logShipping } from './log-shipping.ts'

/** Seconds. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]

/** One histogram series: cumulative counts are computed at scrape time. */
export class HistogramSeries {
  readonly counts = new Float64Array(LATENCY_BUCKETS.length + 1)
  sum = 0
  count = 0

  observe(seconds: number): void {
    let i = 0
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++
    this.counts[i]!++
    this.sum += seconds
    this.count++
  }
}

/**
 * The `route` label of the endpoints the gateway answers itself, ahead of routing (service ""). A colon
 * is in no route name or id (Kong's `utf8_name`), so a route of the configuration can never share
 * their series, whatever it is called. The access log's `route` field shows the same value.
 */
export const BUILTIN_ROUTES = {
  /** The built-in identity provider, every path under its issuer (identity/mount.ts). */
  identityProvider: 'gatehouse:identity-provider',
  /** The internal-token JWKS at `internal_tokens.jwks_path`. */
  internalJwks: 'gatehouse:internal-jwks',
} as const

type Labels = Readonly<Record<string, string>>
interface MetricValue {
  value: number
  labels: Labels
  metricName?: string
}

/** A prom-client-compatible metric whose values come from our series (registry.registerMetric). */
class CollectedMetric {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'histogram'
  readonly #values: () => MetricValue[]

  constructor(name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]) {
    this.name = name
    this.help = help
    this.type = type
    this.#values = values
  }

  get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.#values(),
      aggregator: 'sum' as const,
    }
  }
}

function histogramValues(name: string, series: Iterable<[Labels, HistogramSeries]>): MetricValue[] {
  const out: MetricValue[] = []
  for (const [labels, h] of series) {
    let cumulative = 0
    LATENCY_BUCKETS.forEach((le, i) => {
      cumulative += h.counts[i]!
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: String(le) }, value: cumulative })
    })
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count })
    out.push({ metricName: `${name}_sum`, labels, value: h.sum })
    out.push({ metricName: `${name}_count`, labels, value: h.count })
  }
  return out
}

export class GatewayMetrics {
  readonly registry = new Registry()
  readonly configReloads = new Counter({
    name: 'gatehouse_config_reloads_total',
    help: 'Configuration loads after start, by result (success or failure).',
    labelNames: ['result'] as const,
    registers: [this.registry],
    // Workers apply what the primary loaded: the primary's count is the node's.
    aggregator: 'max',
  })
  readonly configInfo = new Gauge({
    name: 'gatehouse_config_info',
    help: 'The configuration in use (value 1), labelled by its sha256 hash.',
    labelNames: ['hash'] as const,
    registers: [this.registry],
    aggregator: 'max',
  })
  readonly eventLoopUtilization = new Gauge({
    name: 'gatehouse_event_loop_utilization',
    help: 'Share of the last 5 s the event loop was busy (0..1), by worker (`primary` for the primary of several, `0` alone).',
    labelNames: ['worker'] as const,
    registers: [this.registry],
  })
  readonly eventLoopLag = new Gauge({
    name: 'gatehouse_event_loop_lag_seconds',
    help: 'Event-loop delay over the last 5 s, by worker and statistic (p50, p99, max).',
    labelNames: ['worker', 'stat'] as const,
    registers: [this.registry],
  })
  /** The primary of several workers: each worker's metrics, asked at scrape time. */
  workerMetrics: (() => Promise<MetricObjectWithValues<PromValue<string>>[][]>) | null = null
  #worker = '0'
  readonly #loopTimer: NodeJS.Timeout
  readonly connections = new Gauge({
    name: 'gatehouse_proxy_connections',
    help: 'Open client connections on the proxy listener.',
    registers: [this.registry],
  })
  readonly websocketConnections = new Gauge({
    name: 'gatehouse_websocket_connections',
    help: 'Open WebSocket connections (tunnels between a client and an upstream), by service and route.',
    labelNames: ['service', 'route'] as const,
    registers: [this.registry],
  })
  readonly websocketHandshakes = new Counter({
    name: 'gatehouse_websocket_handshakes_total',
    help: 'WebSocket handshakes, by service, route and outcome (upgraded, refused, upstream_refused, failed).',
    labelNames: ['service', 'route', 'outcome'] as const,
    registers: [this.registry],
  })

  /** For requests answered before any route matched. */
  readonly unmatched: RouteMetrics
  /** For the internal-token JWKS (BUILTIN_ROUTES.internalJwks). */
  readonly internalJwks: RouteMetrics
  readonly #routes = new Map<string, RouteMetrics>()
  #logWriter: { readonly droppedTotal: number } | null = null

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    // Both series exist from the start, so `increase()` sees the first reload and alerts see zero failures.
    for (const result of ['success', 'failure']) this.configReloads.labels(result).inc(0)
    const routes = () => this.#routes.values()
    this.registry.registerMetric(
      new CollectedMetric(
        'gatehouse_http_requests_total',
        'Requests answered by the proxy, by service, route and status code.',
        'counter',
        () => [...routes()].flatMap((r) => r.codeSeries().map(([labels, h]) => ({ labels, value: h.count }))),
      ) as never,
    )
    this.registry.registerMetric(
      new CollectedMetric(
        'gatehouse_request_duration_seconds',
        'Time from receiving the request to the end of the response, by service, route and status code.',
        'histogram',
        () =>
          histogramValues(
            'gatehouse_request_duration_seconds',
            [...routes()].flatMap((r) => r.codeSeries()),
          ),
      ) as never,
    )
    this.registry.registerMetric(
      new CollectedMetric(
        'gatehouse_upstream_duration_seconds',
        'Time from sending the request upstream to receiving its response headers, by service and route.',
        'histogram',
        () =>
          histogramValues(
            'gatehouse_upstream_duration_seconds',
            [...routes()].flatMap((r) =>
              r.upstream.count > 0 ? [[r.labels, r.upstream] as [Labels, HistogramSeries]] : [],
            ),
          ),
      ) as never,
    )
    // Read at scrape time from the log writer, which exists before the metrics do (countDroppedLogLines).
    this.registry.registerMetric(
      new CollectedMetric(
        'gatehouse_log_lines_dropped_total',
        'Log lines (operational and access) dropped: new lines while 16 MiB waited for the output, and every line held or written once the output was closed.',
        'counter',
        () => [{ labels: {}, value: this.#logWriter?.droppedTotal ?? 0 }],
      ) as never,
    )
    // The log plugins' deliveries (file-log, http-log), from the process-wide tallies (log-shipping.ts).
    this.registry.registerMetric(
      new CollectedMetric(
        'gatehouse_log_entries_sent_total',
        'Log entries the log plugins delivered (written to the file, accepted by the HTTP receiver), by plugin.',
        'counter',
        () => logShipping.sentSeries(),
      ) as never,
    )
    this.registry.registerMetric(
      new CollectedMetric(
        'gatehouse_log_entries_dropped_total',
        'Log entries the log plugins dropped, by plugin and reason (queue_full, too_large, retries_exhausted, shutdown, unwritable).',
        'counter',
        () => logShipping.droppedSeries(),
      ) as never,
    )
    this.unmatched = this.forRoute('', '')
    this.internalJwks = this.forRoute('', BUILTIN_ROUTES.internalJwks)
    this.#loopTimer = this.#sampleEventLoop()
  }

  /** Names this process in the per-worker series: `primary`, or the worker's slot. */
  setWorker(label: string): void {
    this.eventLoopUtilization.reset()
    this.eventLoopLag.reset()
    this.#worker = label
  }

  /** The Prometheus text of this process, or of the whole node in the primary of several workers. */
  async text(): Promise<string> {
    if (this.workerMetrics === null) return this.registry.metrics()
    const [own, workers] = await Promise.all([this.registry.getMetricsAsJSON(), this.workerMetrics()])
    return AggregatorRegistry.aggregate([own, ...workers]).metrics()
  }

  stop(): void {
    clearInterval(this.#loopTimer)
  }

  /** Every 5 s: how busy the loop was and how late its timers ran (cheap: no per-request work). */
  #sampleEventLoop(): NodeJS.Timeout {
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    let last = performance.eventLoopUtilization()
    const timer = setInterval(() => {
      const now = performance.eventLoopUtilization()
      this.eventLoopUtilization
        .labels(this.#worker)
        .set(performance.eventLoopUtilization(now, last).utilization)
      last = now
      const seconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0)
      this.eventLoopLag.labels(this.#worker, 'p50').set(seconds(delay.percentile(50)))
      this.eventLoopLag.labels(this.#worker, 'p99').set(seconds(delay.percentile(99)))
      this.eventLoopLag.labels(this.#worker, 'max').set(seconds(delay.max))
      delay.reset()
    }, 5000)
    timer.unref()
    return timer
  }

  /** Reports the drop count of the process's log writer (observability/line-writer.ts) as a counter. */
  countDroppedLogLines(writer: { readonly droppedTotal: number }): void {
    this.#logWriter = writer
  }

  /** Every route's series (live-stats.ts reads them once a second). */
  routeSeries(): IterableIterator<RouteMetrics> {
    return this.#routes.values()
  }

  /** The series of one route, created on first use and kept across reloads. */
  forRoute(service: string, route: string): RouteMetrics {
    const key = `${service}\0${route}`
    let metrics = this.#routes.get(key)
    if (!metrics) {
      metrics = new RouteMetrics(service, route)
      this.#routes.set(key, metrics)
    }
    return metrics
  }

  setConfigHash(hash: string): void {
    this.configInfo.reset()
    this.configInfo.labels(hash).set(1)
  }
}

export class RouteMetrics {
  /** The `service` and `route` labels ("" for none). */
  readonly service: string
  readonly route: string
  readonly labels: Labels
  readonly upstream = new HistogramSeries()
  /** Status code → its series; codes are few (and bounded to 100..599), so a map stays small. */
  readonly #byCode = new Map<number, HistogramSeries>()

  constructor(service: string, route: string) {
    this.service = service
    this.route = route
    this.labels = Object.freeze({ service, route })
  }

  record(code: number, seconds: number, upstreamSeconds: number): void {
    let series = this.#byCode.get(code)
    if (series === undefined) {
      series = new HistogramSeries()
      this.#byCode.set(code, series)
    }
    series.observe(seconds)
    if (upstreamSeconds >= 0) this.upstream.observe(upstreamSeconds)
  }

  /** Each status code's series, without allocating (live-stats.ts, once a second). */
  eachCode(visit: (code: number, series: HistogramSeries) => void): void {
    for (const [code, series] of this.#byCode) visit(code, series)
  }

  codeSeries(): [Labels, HistogramSeries][] {
    return [...this.#byCode].map(([code, h]) => [{ ...this.labels, code: String(code) }, h])
  }
}
