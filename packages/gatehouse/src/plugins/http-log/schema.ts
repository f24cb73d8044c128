/**
 * Config of the http-log plugin: Kong's http-log schema (3.x) with its messages and its `queue` record
 * (kong/tools/queue_schema.lua), and the 2.x queue fields Kong still accepts as deprecated aliases
 * (`retry_count`, `queue_size`, `flush_timeout`; plugin.ts applies them as Kong's get_plugin_params does).
 */
import { z } from 'zod'
import { kongQueueSchema } from '../_shared/kong-queue.ts'

/** Kong's `typedefs.header_name` and the names http-log reserves, with Kong's messages; null when fine. */
function headerNameProblem(name: string): string | null {
  if (name === '') return 'no header name provided'
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    return `bad header name '${name}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`
  const reserved = { host: 'Host', 'content-length': 'Content-Length', 'content-type': 'Content-Type' }[
    name.toLowerCase()
  ]
  return reserved !== undefined ? `cannot contain '${reserved}' header` : null
}

/** A value Node can put in a header: no control characters or line breaks (RFC 9110 §5.5). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/** Kong's queue record (kong/tools/queue_schema.lua), same names, defaults and bounds. */
export const queueSchema = kongQueueSchema({
  whole: "Kong 3.x's queue: how entries are batched, bounded and retried.",
  describe: {
    max_batch_size:
      'Most entries sent in one request. 1 sends each entry alone as a JSON object; more sends a JSON array of up to this many. Default: 1.',
    max_coalescing_delay:
      'Seconds (fractions allowed) to wait after the first entry of a batch for more, before sending it; no effect when max_batch_size is 1. Default: 1.',
    max_entries:
      'Most entries waiting to be sent. When the queue is full the oldest entry is dropped for the new one (Kong\'s rule), counted in gatehouse_log_entries_dropped_total{reason="queue_full"} and warned about. Default: 10000.',
    max_bytes:
      'Most bytes of entries waiting to be sent; the oldest are dropped to make room, and an entry larger than this alone is dropped. Default: unset (no byte bound).',
    max_retry_time:
      'Seconds a failing batch is retried before it is dropped (counted as `retries_exhausted`); -1: never retried. Default: 60.',
    initial_retry_delay:
      'Seconds before the first retry of a failed batch; each next delay doubles. Default: 0.01.',
    max_retry_delay: 'Seconds between retries at most: the cap of the doubling. Default: 60.',
    concurrency_limit:
      'Batches in flight at once: 1 (one after the other, in order), or -1 (Kong: no queue, each entry sent at once, unordered; here a bounded queue still holds them, sent with up to 16 requests in flight). Default: 1.',
    name: "Kong's internal queue name; accepted and unused (instances with the same endpoint and settings share a queue anyway).",
  },
})

export type QueueConfig = z.output<typeof queueSchema>

const deprecated = (text: string) => `Deprecated (Kong 2.x): ${text}`

export const httpLogSchema = z
  .strictObject({
    http_endpoint: z
      .url({
        protocol: /^https?$/,
        error: (issue) => (issue.input === undefined ? 'required field missing' : 'expected an http(s) URL'),
      })
      .describe(
        'Where entries are sent (http or https). User info in it (`https://user:password@host/path`) is sent as Basic authentication, as Kong does, and never logged. Required.',
      ),
    method: z
      .enum(['POST', 'PUT', 'PATCH'], { error: 'expected one of: POST, PUT, PATCH' })
      .default('POST')
      .describe('The request method: POST, PUT or PATCH. Default: POST.'),
    content_type: z
      .enum(['application/json', 'application/json; charset=utf-8'], {
        error: 'expected one of: application/json, application/json; charset=utf-8',
      })
      .default('application/json')
      .describe('The Content-Type of the requests. Default: `application/json`.'),
    timeout: z
      .number({ error: 'expected a number' })
      .positive({ error: 'value must be greater than 0' })
      .default(10_000)
      .describe('Milliseconds a request to the endpoint may take, connecting included. Default: 10000.'),
    keepalive: z
      .number({ error: 'expected a number' })
      .positive({ error: 'value must be greater than 0' })
      .default(60_000)
      .describe('Milliseconds an idle connection to the endpoint is kept open. Default: 60000.'),
    headers: z
      .record(
        z.string(),
        z
          .string({ error: 'expected a string' })
          .min(1, { error: 'length must be at least 1' })
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
        'Headers added to every request, one string each. Not Host, Content-Length or Content-Type (the plugin sets them), and not Authorization together with user info in `http_endpoint`. Default: none.',
      ),
    queue: queueSchema.prefault({}),
    retry_count: z
      .int({ error: 'expected an integer' })
      .nullish()
      .describe(deprecated('no longer has an effect (warned about unless 10); use `queue.max_retry_time`.')),
    queue_size: z
      .int({ error: 'expected an integer' })
      .nullish()
      .describe(deprecated('`queue.max_batch_size`; a value other than 1 replaces it, with a warning.')),
    flush_timeout: z
      .number({ error: 'expected a number' })
      .nullish()
      .describe(
        deprecated(
          '`queue.max_coalescing_delay` in seconds; a value other than 2 replaces it, with a warning.',
        ),
      ),
    custom_fields_by_lua: z
      .null({ error: 'Lua code is not supported; leave it unset' })
      .optional()
      .describe("Kong's Lua code for extra fields is not supported; only null."),
  })
  .superRefine((config, ctx) => {
    if (!URL.canParse(config.http_endpoint)) return
    const url = new URL(config.http_endpoint)
    const hasAuthHeader = Object.keys(config.headers ?? {}).some((h) => h.toLowerCase() === 'authorization')
    if ((url.username !== '' || url.password !== '') && hasAuthHeader)
      ctx.addIssue({
        code: 'custom',
        message: "specifying both an 'Authorization' header and user info in 'http_endpoint' is not allowed",
      })
  })
  .describe(
    "Kong's http-log: every request on the route is sent, as Kong's log entry (credentials redacted), to an HTTP endpoint, through a bounded queue: batched, retried with exponential backoff, never holding a request up. The queue is flushed, for 5 seconds at most, when the gateway stops; deliveries and drops are counted in gatehouse_log_entries_sent_total and gatehouse_log_entries_dropped_total. Unlike Kong, an https endpoint's certificate is verified. The entry has Kong's `kong.log.serialize()` shape: `request` (`id`, `uri`, `url`, `querystring`, `method`, `headers`, `tls` on https), `upstream_uri`, `upstream_status`, `response` (`status`, `headers`, `size`), `latencies` (`kong`, `proxy`, `request`, `receive`, in ms), `authenticated_entity`, `route`, `service`, `consumer`, `client_ip`, `started_at` (epoch ms), `source` (`upstream` or `kong`) and `correlation_id`. Left out, since the gateway does not know them: `request.size`, `tries`, `workspace`, `workspace_name`, `trace_id` and `request.tls.client_verify`; `response.size` counts body bytes only (Kong's counts the head too). A deliberate difference: Kong logs every request header but Authorization and Proxy-Authorization raw; here Authorization, Proxy-Authorization, Cookie, DPoP, Set-Cookie, `access_token` and every header or query parameter a `key-auth`, `jwt` or `session` instance of the configuration reads a credential from are `REDACTED`, in the URLs too; consumers appear by `id`, `username`, `custom_id` and `tags` only, services without their client certificate. Refusals are logged too (a 401 from an authentication plugin): the log phase runs for every plugin of the route, as Kong's does. Requests that match no route are not (they are in the access log).",
  )

export type HttpLogConfig = z.output<typeof httpLogSchema>
