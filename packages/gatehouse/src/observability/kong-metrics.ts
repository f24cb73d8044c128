/**
 * The metric families of Kong's prometheus plugin (`kong_http_requests_total`, `kong_kong_latency_ms`,
 * `kong_upstream_latency_ms`, `kong_request_latency_ms`, `kong_bandwidth_bytes`,
 * `kong_upstream_target_health`), with Kong's names, labels and buckets, so dashboards and alerts made for
 * Kong (its Grafana dashboard among them) work on Gatehouse unchanged. They are fed by the `prometheus`
 * plugin's log phase from the same measurements as the gateway's own `gatehouse_*` families, and only
 * while a configuration holds the plugin, as in Kong: the gateway's own families are always there.
 *
 * One instance per metrics registry (`kongMetricsFor`), created on first use, kept across reloads so
 * the counters of a route survive them. Every plugin instance holds a lease (`acquire`):
 * `kong_upstream_target_health` has samples only while a held lease asked for it (Kong: "enabled if any plugin instance has explicitly enabled it").
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Balancer, HealthState } from '../proxy/balancer.ts'

/** Kong's buckets (exporter.lua), in milliseconds. */
const KONG_LATENCY_BUCKETS = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 3000, 6000]
const UPSTREAM_LATENCY_BUCKETS = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000]

const HEALTH_STATES: readonly HealthState[] = ['HEALTHCHECKS_OFF', 'HEALTHY', 'UNHEALTHY', 'DNS_ERROR']

/** What one finished request contributes (the plugin's log phase fills it from the request state). */
export interface KongObservation {
  readonly service: string
  readonly route: string
  /** The consumer's username with `per_consumer`, else "". */
  readonly consumer: string
  /** Null unless `status_code_metrics`. */
  readonly status: number | null
  /** `service` when the upstream answered, `kong` when the gateway did (a refusal, an exit, an error). */
  readonly source: 'service' | 'kong'
  /** Milliseconds; null unless `latency_metrics`. `upstream` is -1 when no upstream answered. */
  readonly latencies: { readonly request: number; readonly upstream: number; readonly kong: number } | null
  /** Bytes; null unless `bandwidth_metrics`. */
  readonly bandwidth: { readonly ingress: number; readonly egress: number } | null
}

/** A plugin instance's hold on the families; released when its configuration is replaced. */
export interface KongMetricsLease {
  release(): void
}

const byRegistry = new WeakMap<Registry, KongMetrics>()

/** The Kong families of a registry, made on first use. */
export function kongMetricsFor(registry: Registry): KongMetrics {
  let metrics = byRegistry.get(registry)
  if (metrics === undefined) {
    metrics = new KongMetrics(registry)
    byRegistry.set(registry, metrics)
  }
  return metrics
}

export class KongMetrics {
  readonly #registry: Registry
  #families: Families | null = null
  #healthLeases = 0
  #balancers: (() => Iterable<Balancer>) | null = null
  #healthGauge: Gauge | null = null

  constructor(registry: Registry) {
    this.#registry = registry
  }

  /** The balancers `kong_upstream_target_health` reads (proxy/upstreams.ts gives them once). */
  setBalancers(balancers: () => Iterable<Balancer>): void {
    this.#balancers = balancers
  }

  acquire(options: { upstreamHealth: boolean }): KongMetricsLease {
    this.#families ??= registerFamilies(this.#registry)
    if (options.upstreamHealth) {
      this.#healthLeases++
      this.#healthGauge ??= this.#registerHealthGauge()
    }
    let held = true
    return {
      release: () => {
        if (!held) return
        held = false
        if (options.upstreamHealth) this.#healthLeases--
      },
    }
  }

  record(o: KongObservation): void {
    const f = this.#families
    if (f === null) return
    if (o.status !== null)
      f.requests.inc({
        service: o.service,
        route: o.route,
        code: o.status,
        source: o.source,
        workspace: 'default',
        consumer: o.consumer,
      })
    const latencies = o.latencies
    if (latencies !== null) {
      const labels = { service: o.service, route: o.route, workspace: 'default' }
      f.requestLatency.observe(labels, latencies.request)
      if (latencies.upstream >= 0) f.upstreamLatency.observe(labels, latencies.upstream)
      f.kongLatency.observe(labels, latencies.kong)
    }
    const bandwidth = o.bandwidth
    if (bandwidth !== null) {
      const labels = { service: o.service, route: o.route, workspace: 'default', consumer: o.consumer }
      if (bandwidth.ingress > 0) f.bandwidth.inc({ ...labels, direction: 'ingress' }, bandwidth.ingress)
      if (bandwidth.egress > 0) f.bandwidth.inc({ ...labels, direction: 'egress' }, bandwidth.egress)
    }
  }

  #registerHealthGauge(): Gauge {
    const self = this
    return new Gauge({
      name: 'kong_upstream_target_health',
      help: 'Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.',
      labelNames: ['upstream', 'target', 'address', 'state', 'subsystem'] as const,
      registers: [this.#registry],
      // Each worker checks its endpoints itself: across workers, 1 where any of them sees that state.
      aggregator: 'max',
      collect() {
        this.reset()
        if (self.#healthLeases === 0 || self.#balancers === null) return
        for (const balancer of self.#balancers()) {
          for (const t of balancer.health()) {
            const rows =
              t.addresses.length > 0
                ? t.addresses.map((a) => ({
                    address: a.ip.includes(':') ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`,
                    health: a.health,
                  }))
                : [{ address: '', health: t.health }]
            for (const row of rows)
              for (const state of HEALTH_STATES)
                this.labels(
                  balancer.upstream.name,
                  t.target.target,
                  row.address,
                  state.toLowerCase(),
                  'http',
                ).set(row.health === state ? 1 : 0)
          }
        }
      },
    })
  }
}

interface Families {
  readonly requests: Counter<'service' | 'route' | 'code' | 'source' | 'workspace' | 'consumer'>
  readonly kongLatency: Histogram<'service' | 'route' | 'workspace'>
  readonly upstreamLatency: Histogram<'service' | 'route' | 'workspace'>
  readonly requestLatency: Histogram<'service' | 'route' | 'workspace'>
  readonly bandwidth: Counter<'service' | 'route' | 'direction' | 'workspace' | 'consumer'>
}

/**
 * Kong's help texts, names and label orders. Gatehouse has no workspaces: the label is `default`, which is
 * what Kong OSS reports. Once made, the families stay: a reload that drops the plugin stops their counts
 * but keeps them, as counters must not go back.
 */
function registerFamilies(registry: Registry): Families {
  return {
    requests: new Counter({
      name: 'kong_http_requests_total',
      help: 'HTTP status codes per consumer/service/route in Kong',
      labelNames: ['service', 'route', 'code', 'source', 'workspace', 'consumer'] as const,
      registers: [registry],
    }),
    kongLatency: new Histogram({
      name: 'kong_kong_latency_ms',
      help: 'Latency added by Kong and enabled plugins for each service/route in Kong',
      labelNames: ['service', 'route', 'workspace'] as const,
      buckets: KONG_LATENCY_BUCKETS,
      registers: [registry],
    }),
    upstreamLatency: new Histogram({
      name: 'kong_upstream_latency_ms',
      help: 'Latency added by upstream response for each service/route in Kong',
      labelNames: ['service', 'route', 'workspace'] as const,
      buckets: UPSTREAM_LATENCY_BUCKETS,
      registers: [registry],
    }),
    requestLatency: new Histogram({
      name: 'kong_request_latency_ms',
      help: 'Total latency incurred during requests for each service/route in Kong',
      labelNames: ['service', 'route', 'workspace'] as const,
      buckets: UPSTREAM_LATENCY_BUCKETS,
      registers: [registry],
    }),
    bandwidth: new Counter({
      name: 'kong_bandwidth_bytes',
      help: 'Total bandwidth (ingress/egress) throughput in bytes',
      labelNames: ['service', 'route', 'direction', 'workspace', 'consumer'] as const,
      registers: [registry],
    }),
  }
}
