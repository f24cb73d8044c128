/**
 * prometheus: Kong's plugin of that name. Gatehouse always exports its own `gatehouse_*` metrics; this
 * plugin adds the families Kong's exports (observability/kong-metrics.ts), so dashboards and alerts made
 * for Kong keep working. It does its work in the log phase, which runs for every request of the route,
 * refused ones included.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { kongMetricsFor } from '../../observability/kong-metrics.ts'
import type { GatewayPlugin } from '../types.ts'
import { type PrometheusConfig, prometheusSchema } from './schema.ts'

/**
 * The `prometheus` plugin (Kong's contract, priority 13).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: prometheus
 *     config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, per_consumer: false }
 * ```
 */
export const plugin: GatewayPlugin<PrometheusConfig> = {
  name: 'prometheus',
  version: '1.0.0',
  priority: 13,
  band: 'logging',
  description:
    "Exports Kong's prometheus metric families (kong_http_requests_total, latency, bandwidth, upstream health) beside the gateway's own.",
  schema: prometheusSchema,
  create(config, ctx) {
    const metrics = kongMetricsFor(ctx.metrics)
    const lease = metrics.acquire({ upstreamHealth: config.upstream_health_metrics })
    const { per_consumer, status_code_metrics, latency_metrics, bandwidth_metrics } = config
    return {
      log(state) {
        const route = state.route!
        const service = route.service
        const latency = state.totalLatency
        const upstream = state.upstreamLatency
        metrics.record({
          // Kong's labels: the service's name or else its host; the route's name or else its id.
          service: service === null ? '' : (service.name ?? service.host),
          route: route.route.name ?? route.route.id,
          consumer: per_consumer ? (state.consumer?.username ?? '') : '',
          status: status_code_metrics ? state.finalStatus : null,
          source: upstream >= 0 && state.error === null ? 'service' : 'kong',
          latencies: latency_metrics
            ? { request: latency, upstream, kong: upstream >= 0 ? Math.max(0, latency - upstream) : latency }
            : null,
          bandwidth: bandwidth_metrics
            ? { ingress: requestSize(state.req), egress: responseHeadSize(state.res) + state.bytesSent }
            : null,
        })
      },
      close() {
        lease.release()
      },
    }
  },
}

/**
 * The request's size as Kong counts it (nginx's $request_length): the head as sent, and the body it
 * announced. The parser drops optional whitespace, so a head with some is counted a few bytes short; a
 * chunked body (no Content-Length) is not counted.
 */
function requestSize(req: IncomingMessage): number {
  let size = req.method!.length + req.url!.length + 12 // "M U HTTP/1.1\r\n"
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) size += raw[i]!.length + Buffer.byteLength(raw[i + 1]!) + 4
  size += 2
  const announced = Number(req.headers['content-length'])
  return Number.isSafeInteger(announced) && announced > 0 ? size + announced : size
}

/** The HTTP/1 response head Node wrote (its exact text); HTTP/2 heads are compressed and not counted. */
function responseHeadSize(res: ServerResponse): number {
  const head = (res as ServerResponse & { _header?: unknown })._header
  return typeof head === 'string' ? head.length : 0
}
