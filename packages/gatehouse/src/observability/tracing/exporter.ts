/**
 * The OpenTelemetry SDK behind the `opentelemetry` plugin: one tracer provider per distinct exporter
 * configuration, its spans batched (BatchSpanProcessor) and sent as OTLP/HTTP JSON off the request path.
 * A request only hands finished spans to the processor's bounded queue: a slow or dead collector never
 * holds a request up (the queue drops its oldest work when full, and the exporter times out).
 *
 * Instances with the same config share a provider (as http-log shares its queue), kept across reloads
 * that leave the config unchanged; the last instance to go flushes what is queued, bounded by
 * SHUTDOWN_FLUSH_MS (at SIGTERM the gateway closes the runtime after draining requests).
 *
 * No global tracer provider or context manager is registered: contexts are passed explicitly
 * (request-trace.ts), so tracing costs nothing on requests whose route has no tracing plugin.
 */
import { hostname } from 'node:os'
import type { Tracer } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions'
import { VERSION } from '../../version.ts'

/** How long the last user of a provider lets it send what is queued before dropping it. */
export const SHUTDOWN_FLUSH_MS = 5000

/** What one provider is built from (the plugin maps Kong's config onto it). */
export interface ExporterOptions {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly resourceAttributes: Readonly<Record<string, string>>
  /** Probability a trace without a sampled parent is recorded; a parent's decision is followed. */
  readonly samplingRate: number
  readonly maxBatchSize: number
  readonly maxQueueSize: number
  readonly scheduledDelayMs: number
  /** The bound on one export request, connecting included. */
  readonly exportTimeoutMs: number
}

interface SharedProvider {
  readonly provider: TracerProvider
  readonly tracer: Tracer
  users: number
}

const providers = new Map<string, SharedProvider>()

/** `service.instance.id`: which node and process exported a span (Kong uses its node id). */
const INSTANCE_ID = `${hostname()}:${process.pid}`

function build(options: ExporterOptions): SharedProvider {
  const exporter = new OTLPTraceExporter({
    url: options.url,
    headers: { ...options.headers },
    timeoutMillis: options.exportTimeoutMs,
    // One batch in flight at a time, as Kong's queue sends: a collector that is slow gets no pile-up.
    concurrencyLimit: 1,
  })
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: 'gatehouse',
      [ATTR_SERVICE_VERSION]: VERSION,
      'service.instance.id': INSTANCE_ID,
      ...options.resourceAttributes,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.samplingRate) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxExportBatchSize: options.maxBatchSize,
        maxQueueSize: Math.max(options.maxQueueSize, options.maxBatchSize),
        scheduledDelayMillis: options.scheduledDelayMs,
        exportTimeoutMillis: options.exportTimeoutMs,
      }),
    ],
  })
  return { provider, tracer: provider.getTracer('gatehouse', VERSION), users: 0 }
}

/** A lease on the provider for `options`; `release` it when the instance closes. */
export interface ProviderLease {
  readonly tracer: Tracer
  release(): Promise<void>
}

export function acquireProvider(options: ExporterOptions): ProviderLease {
  const key = JSON.stringify(options)
  let shared = providers.get(key)
  if (shared === undefined) {
    shared = build(options)
    providers.set(key, shared)
  }
  shared.users++
  const held = shared
  let released = false
  return {
    tracer: held.tracer,
    async release() {
      if (released) return
      released = true
      if (--held.users > 0 || providers.get(key) !== held) return
      providers.delete(key)
      let timer: NodeJS.Timeout | undefined
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_FLUSH_MS)
        timer.unref()
      })
      // shutdown() flushes the queue; a dead collector cannot keep the process up past the bound.
      await Promise.race([held.provider.shutdown().catch(() => {}), bound])
      clearTimeout(timer)
    },
  }
}
