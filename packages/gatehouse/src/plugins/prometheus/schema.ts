/** Config of the prometheus plugin: Kong's prometheus schema (3.x), so a Kong file loads unchanged. */
import { z } from 'zod'

const flag = (text: string) => z.boolean().default(false).describe(`${text} Default: false.`)

export const prometheusSchema = z
  .strictObject({
    per_consumer: flag(
      "Fill the `consumer` label of `kong_http_requests_total` and `kong_bandwidth_bytes` with the consumer's username when the request has a consumer (else the label is empty). One series per consumer: mind the cardinality with many consumers.",
    ),
    status_code_metrics: flag(
      'Export `kong_http_requests_total` (requests by service, route, status code, source and consumer).',
    ),
    latency_metrics: flag(
      "Export `kong_request_latency_ms` (the whole request), `kong_upstream_latency_ms` (sending upstream to the response headers) and `kong_kong_latency_ms` (the rest: the gateway and its plugins), in milliseconds, with Kong's buckets.",
    ),
    bandwidth_metrics: flag(
      'Export `kong_bandwidth_bytes` by `direction`: `ingress` (the request: head and announced body) and `egress` (the response: head and body bytes sent).',
    ),
    upstream_health_metrics: flag(
      'Export `kong_upstream_target_health` for every balanced upstream. Node-wide, as in Kong: on when any prometheus instance of the configuration sets it.',
    ),
    ai_metrics: flag(
      "Kong's AI metrics. Accepted for Kong files; Gatehouse has no AI plugins, so there is nothing to export (as in Kong without them).",
    ),
    wasm_metrics: flag(
      "Kong's Wasm filter metrics. Accepted for Kong files; Gatehouse runs no Wasm filters, so there is nothing to export.",
    ),
  })
  .describe(
    "Kong's prometheus: the metric families of Kong's plugin, with Kong's names, labels and buckets, beside the gateway's own `gatehouse_*` metrics (which are always there, plugin or not) on the same `/metrics` (admin and status listeners). Each option adds the families Kong adds for it; docs/metrics.md maps each Kong family to its `gatehouse_*` counterpart. Requests the route's other plugins refuse are counted too, as in Kong.",
  )

export type PrometheusConfig = z.output<typeof prometheusSchema>
