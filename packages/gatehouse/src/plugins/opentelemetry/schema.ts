/**
 * Config of the opentelemetry plugin: Kong's schema (kong/plugins/opentelemetry/schema.lua, 3.x) with its
 * names, defaults and messages, its `queue` record and its `propagation` record
 * (kong/observability/tracing/propagation/schema.lua), and the 2.x fields Kong still accepts as
 * deprecated (`endpoint`, `batch_span_count`, `batch_flush_delay`, `header_type`).
 *
 * Gatehouse reads and writes W3C Trace Context only. Kong's other header formats (b3, jaeger, ot, aws,
 * gcp, datadog, instana) are refused at load with a message saying so, rather than accepted and quietly
 * ignored: a trace that silently stops joining is worse than a configuration that says why it cannot.
 * Kong's OTLP logs export (`logs_endpoint`) is refused likewise.
 */
import { z } from 'zod'
import { kongQueueSchema } from '../_shared/kong-queue.ts'

/** Kong's `typedefs.header_name`, with Kong's message; null when fine. */
function headerNameProblem(name: string): string | null {
  if (name === '') return 'no header name provided'
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    return `bad header name '${name}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`
  return null
}

/** A value Node can put in a header: no control characters or line breaks (RFC 9110 §5.5). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

const between = (min: number, max: number) => ({ error: `value should be between ${min} and ${max}` })

/** Kong's header formats; only `w3c` (and `preserve`, which is w3c here) can be honoured. */
const KONG_FORMATS = ['w3c', 'b3', 'b3-single', 'jaeger', 'ot', 'aws', 'gcp', 'datadog', 'instana'] as const
const UNSUPPORTED_FORMAT = (format: string) =>
  `header format '${format}' is not supported: Gatehouse reads and writes W3C Trace Context (traceparent, tracestate) only; use 'w3c'`

/** A Kong format name, refused with a clear message unless it is w3c. */
const w3cOnly = z
  .enum(KONG_FORMATS, { error: `expected one of: ${KONG_FORMATS.join(', ')}` })
  .refine((f) => f === 'w3c', { error: (issue) => UNSUPPORTED_FORMAT(String(issue.input)) })

const timeout = (what: string, fallback: number) =>
  z
    .int({ error: 'expected an integer' })
    .min(0, between(0, 2_147_483_646))
    .max(2_147_483_646, between(0, 2_147_483_646))
    .default(fallback)
    .describe(
      `Milliseconds to ${what}. The three timeouts add up to the bound on one export request (the OTLP exporter has a single deadline). Default: ${fallback}.`,
    )

const deprecated = (text: string) => `Deprecated (Kong 2.x): ${text}`

export const openTelemetryQueueSchema = kongQueueSchema({
  whole: "Kong 3.x's queue: how spans are batched and bounded before export.",
  maxBatchSize: 200,
  describe: {
    max_batch_size: 'Most spans sent in one export request. Default: 200 (Kong).',
    max_coalescing_delay: 'Seconds (fractions allowed) between two exports of what has queued. Default: 1.',
    max_entries:
      'Most spans waiting to be exported; beyond it new spans are dropped (never the request). Default: 10000.',
    max_bytes: "Kong's byte bound on the queue; accepted and unused (the queue is bounded by max_entries).",
    max_retry_time:
      "Kong's retry window; accepted and unused: the OTLP exporter retries a failed export itself (with backoff) within its timeout, then drops the batch.",
    initial_retry_delay: "Kong's first retry delay; accepted and unused (see max_retry_time).",
    max_retry_delay: "Kong's retry delay cap; accepted and unused (see max_retry_time).",
    concurrency_limit: 'Accepted for Kong files; exports are always sent one at a time. Default: 1.',
    name: "Kong's internal queue name; accepted and unused.",
  },
})

export const propagationSchema = z
  .strictObject({
    extract: z
      .array(w3cOnly)
      .nullish()
      .describe(
        'Header formats a client trace context is read from: `[w3c]` continues a client trace, `[]` always starts a new one. Unset: as header_type says. Other Kong formats are refused.',
      ),
    clear: z
      .array(
        z.string().superRefine((name, ctx) => {
          const problem = headerNameProblem(name)
          if (problem !== null) ctx.addIssue({ code: 'custom', message: problem })
        }),
      )
      .nullish()
      .describe(
        'Request headers removed before the request goes upstream, once the context was read. Default: none.',
      ),
    inject: z
      .array(
        z
          .enum(['preserve', ...KONG_FORMATS], {
            error: `expected one of: preserve, ${KONG_FORMATS.join(', ')}`,
          })
          .refine((f) => f === 'w3c' || f === 'preserve', {
            error: (issue) => UNSUPPORTED_FORMAT(String(issue.input)),
          }),
      )
      .nullish()
      .describe(
        "Header formats the gateway's span context is sent upstream in: `[w3c]` or `[preserve]` (the same here, W3C), `[]` sends the client's traceparent on unchanged (or the core's fresh one). Unset: w3c.",
      ),
    default_format: w3cOnly
      .default('w3c')
      .describe('The format `preserve` falls back to; only `w3c` here. Default: w3c.'),
  })
  .describe("Kong 3.x's propagation: which trace headers are read, cleared and written.")

export const openTelemetrySchema = z
  .strictObject({
    traces_endpoint: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .nullish()
      .describe(
        'The OTLP/HTTP traces endpoint spans are exported to as JSON, e.g. `http://collector:4318/v1/traces`. Required (or the deprecated `endpoint`).',
      ),
    endpoint: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .nullish()
      .describe(deprecated('`traces_endpoint`; used when traces_endpoint is unset.')),
    logs_endpoint: z
      .null({
        error:
          'OTLP logs export is not supported: leave logs_endpoint unset and ship logs with http-log or file-log',
      })
      .optional()
      .describe("Kong's OTLP logs export is not supported; only null (use http-log or file-log)."),
    headers: z
      .record(
        z.string(),
        z
          .string({ error: 'expected a string' })
          .regex(HEADER_VALUE, { error: 'expected a header value (no control characters)' }),
      )
      .superRefine((headers, ctx) => {
        for (const name of Object.keys(headers)) {
          const problem = headerNameProblem(name)
          if (problem !== null) ctx.addIssue({ code: 'custom', path: [name], message: problem })
        }
      })
      .nullish()
      .describe(
        "Headers added to every export request (an APM vendor's token, say). Never logged. Default: none.",
      ),
    resource_attributes: z
      .record(z.string().min(1), z.string().min(1, { error: 'required field missing' }))
      .nullish()
      .describe(
        'Attributes of the OpenTelemetry resource, overriding the defaults `service.name: gatehouse`, `service.version` and `service.instance.id` (host:pid). Default: none.',
      ),
    queue: openTelemetryQueueSchema.prefault({}),
    batch_span_count: z
      .int({ error: 'expected an integer' })
      .min(1, { error: 'value must be greater than 0' })
      .nullish()
      .describe(deprecated('`queue.max_batch_size`; a value other than 200 replaces it, with a warning.')),
    batch_flush_delay: z
      .int({ error: 'expected an integer' })
      .min(0, { error: 'value must be greater than -1' })
      .nullish()
      .describe(
        deprecated(
          '`queue.max_coalescing_delay` in seconds; a value other than 3 replaces it, with a warning.',
        ),
      ),
    connect_timeout: timeout('connect to the collector', 1000),
    send_timeout: timeout('send an export request', 5000),
    read_timeout: timeout("wait for the collector's answer", 5000),
    http_response_header_for_traceid: z
      .string()
      .superRefine((name, ctx) => {
        const problem = headerNameProblem(name)
        if (problem !== null) ctx.addIssue({ code: 'custom', message: problem })
      })
      .nullish()
      .describe("A response header the request's trace id is returned in (on every answer). Default: none."),
    header_type: z
      .enum(['preserve', 'ignore', ...KONG_FORMATS], {
        error: `expected one of: preserve, ignore, ${KONG_FORMATS.join(', ')}`,
      })
      .refine((f) => f === 'preserve' || f === 'ignore' || f === 'w3c', {
        error: (issue) => UNSUPPORTED_FORMAT(String(issue.input)),
      })
      .default('preserve')
      .describe(
        deprecated(
          "use `propagation`. `preserve` and `w3c` continue a client's W3C trace and send W3C upstream; `ignore` always starts a new trace. Kong's other formats are refused. Default: preserve.",
        ),
      ),
    sampling_rate: z
      .number({ error: 'expected a number' })
      .min(0, between(0, 1))
      .max(1, between(0, 1))
      .nullish()
      .describe(
        "Probability (0 to 1) that a trace the client did not already decide is recorded and exported; a client's sampled flag is followed (parent-based). Unsampled requests still get trace ids and pass them upstream. Default: 1 (Kong: kong.conf tracing_sampling_rate, which Gatehouse does not have).",
      ),
    propagation: propagationSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.traces_endpoint == null && config.endpoint == null)
      ctx.addIssue({
        code: 'custom',
        path: ['traces_endpoint'],
        message: 'at least one of these fields must be non-empty: traces_endpoint, logs_endpoint',
      })
  })
  .describe(
    "Kong's opentelemetry: traces every request on its scope (a global instance also traces the built-in identity provider's endpoints and the internal-token JWKS) with a SERVER span (HTTP semantic conventions), a child span for each plugin's access phase, a CLIENT span for the upstream call and for each composition part, and one for the internal token's enrichment lookup, exported as OTLP/HTTP JSON in batches off the request path. W3C Trace Context is read from the client and written upstream (the upstream's parent is the CLIENT span); sampling is parent-based with `sampling_rate` for new traces. The access log gets `trace_id` and `span_id`. Spans are flushed, for 5 seconds at most, when the gateway stops. A dead collector never slows or fails a request.",
  )

export type OpenTelemetryConfig = z.output<typeof openTelemetrySchema>
