/**
 * opentelemetry: Kong's plugin of that name. Its access handler, first of the route's chain, opens the
 * request's trace (observability/tracing/request-trace.ts) as `state.trace`; from then on the pipeline
 * opens child spans for the other plugins' access phases, the upstream call, composition parts and
 * enrichment, and ends the SERVER span when the response is done (pipeline.ts, log stage). A global
 * instance also traces the answers the gateway gives before routing (identity provider, JWKS), which
 * have no route and so no chain (`traceBuiltin`).
 *
 * Kong needs `tracing_instrumentations` and `tracing_sampling_rate` in kong.conf besides the plugin;
 * here the plugin alone turns tracing on for its scope, and its `sampling_rate` (default 1) is the only
 * sampling knob: a global instance is the node-wide setting, a route's instance overrides it there.
 */
import type { Logger } from '../../observability/logger.ts'
import type { ExporterOptions, ProviderLease } from '../../observability/tracing/exporter.ts'
import type { TracePolicy } from '../../observability/tracing/request-trace.ts'
import type { RequestState } from '../../pipeline/request-state.ts'
import type { GatewayPlugin } from '../types.ts'
import { type OpenTelemetryConfig, openTelemetrySchema } from './schema.ts'

type Sdk = typeof import('./sdk.ts')

/** The SDK once `prepare` loaded it. */
let sdk: Sdk | null = null
let loading: Promise<void> | null = null

/** The SDK; `prepare` has loaded it before any instance is built (GatewayRuntime checks). */
function loadedSdk(): Sdk {
  if (sdk === null) throw new TypeError('opentelemetry: an instance was built before the plugin was prepared')
  return sdk
}

/** The exporter settings, with Kong's deprecated 2.x batch fields applied as Kong's get_plugin_params does. */
export function exporterOptions(config: OpenTelemetryConfig, logger: Logger | null): ExporterOptions {
  let maxBatchSize = config.queue.max_batch_size
  let delaySeconds = config.queue.max_coalescing_delay
  const warn = (message: string) => logger?.warn({}, `opentelemetry: ${message}`)
  if (config.batch_span_count != null && config.batch_span_count !== 200) {
    maxBatchSize = config.batch_span_count
    warn('config.batch_span_count is deprecated, please use config.queue.max_batch_size instead')
  }
  if (config.batch_flush_delay != null && config.batch_flush_delay !== 3) {
    delaySeconds = config.batch_flush_delay
    warn('config.batch_flush_delay is deprecated, please use config.queue.max_coalescing_delay instead')
  }
  if (config.endpoint != null && config.traces_endpoint == null)
    warn('config.endpoint is deprecated, please use config.traces_endpoint instead')
  return {
    url: (config.traces_endpoint ?? config.endpoint)!,
    headers: config.headers ?? {},
    resourceAttributes: config.resource_attributes ?? {},
    samplingRate: config.sampling_rate ?? 1,
    maxBatchSize,
    maxQueueSize: config.queue.max_entries,
    scheduledDelayMs: delaySeconds * 1000,
    exportTimeoutMs: config.connect_timeout + config.send_timeout + config.read_timeout,
  }
}

/** Whether a client's context is continued, and whether ours goes upstream (propagation over header_type). */
function headerPolicy(config: OpenTelemetryConfig): { extract: boolean; inject: boolean } {
  const p = config.propagation
  const extract = p.extract != null ? p.extract.length > 0 : config.header_type !== 'ignore'
  const inject = p.inject != null ? p.inject.length > 0 : true
  return { extract, inject }
}

/** `http.route`: the route's path template when it has exactly one plain (non-regex) path. */
function httpRouteOf(state: RequestState): string | null {
  const paths = state.route?.route.paths
  return paths?.length === 1 && !paths[0]!.startsWith('~') ? paths[0]! : null
}

/**
 * The `opentelemetry` plugin (Kong's contract; priority 100100, ahead of every other plugin so their
 * access phases fall inside the trace, where Kong's 14 relies on its core's instrumentation).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: opentelemetry
 *     config:
 *       traces_endpoint: http://otel-collector:4318/v1/traces
 *       resource_attributes: { service.name: edge-gateway }
 *       sampling_rate: 0.25
 * ```
 */
export const plugin: GatewayPlugin<OpenTelemetryConfig> = {
  name: 'opentelemetry',
  version: '1.0.0',
  priority: 100_100,
  band: 'tracing',
  description:
    'Traces requests with OpenTelemetry: SERVER, plugin, upstream, composition and enrichment spans exported as OTLP/HTTP in batches; W3C trace context in and out.',
  schema: openTelemetrySchema,
  prepare() {
    loading ??= import('./sdk.ts').then(
      (loaded) => {
        sdk = loaded
      },
      (err: unknown) => {
        loading = null
        throw err
      },
    )
    return loading
  },
  create(config, ctx) {
    const { acquireProvider, RequestTrace } = loadedSdk()
    // Kong's notices for the deprecated fields, once per load.
    const options = exporterOptions(config, ctx.logger)
    const { extract, inject } = headerPolicy(config)
    const clear = (config.propagation.clear ?? []).map((h) => h.toLowerCase())
    const responseHeader = config.http_response_header_for_traceid?.toLowerCase() ?? null
    // The provider is acquired on first use, so a configuration check (which creates and closes
    // instances) opens nothing.
    let lease: ProviderLease | null = null
    let policy: TracePolicy | null = null
    let closed = false
    const policyNow = (): TracePolicy | null => {
      if (closed) return null
      if (policy === null) {
        lease = acquireProvider(options)
        policy = { tracer: lease.tracer, extract, inject, clear }
      }
      return policy
    }
    return {
      access(state) {
        if (state.dryRun !== null || state.trace !== null) return
        const p = policyNow()
        if (p !== null) state.trace = new RequestTrace(p, state, state.route!.routeName, httpRouteOf(state))
      },
      traceBuiltin(state) {
        const p = policyNow()
        if (p !== null) state.trace = new RequestTrace(p, state, state.builtin?.route ?? null, null)
      },
      response(state) {
        if (responseHeader !== null && state.trace !== null && state.response !== null)
          state.response.headers[responseHeader] = state.trace.traceId
      },
      close() {
        closed = true
        const held = lease
        lease = null
        return held?.release()
      },
    }
  },
}
