/** Config of the file-log plugin: Kong's file-log schema (3.x), so a Kong file loads unchanged. */
import { z } from 'zod'

/** Kong's `match = [[^[^%s*&%%\`][^*&%%\`]*[^%s*&%%\`]$]]`: no `*`, `&`, `%`, `\` or backtick, no blank at either end. */
const FILENAME = /^[^\s*&%\\`][^*&%\\`]*[^\s*&%\\`]$/

export const fileLogSchema = z
  .strictObject({
    path: z
      .string({ error: 'required field missing' })
      .regex(FILENAME, { error: 'not a valid filename' })
      .describe(
        "The file the entries are appended to, one JSON line per request; created (mode 0644) when missing. A relative path is taken from the gateway's working directory. Required.",
      ),
    reopen: z
      .boolean()
      .default(false)
      .describe(
        'Close and reopen the file for every write, so a file logrotate moved away is recreated at `path` at once (without it, use logrotate `copytruncate`). Writes are batched, so this costs an open per batch, not per request. Default: false.',
      ),
    custom_fields_by_lua: z
      .null({ error: 'Lua code is not supported; leave it unset' })
      .optional()
      .describe("Kong's Lua code for extra fields is not supported; only null."),
  })
  .describe(
    "Kong's file-log: every request on the route is appended to `path` as one line of Kong's log entry (`kong.log.serialize()`'s shape: request, response, route, service, consumer, latencies, client_ip, started_at, upstream_uri, …), with every credential redacted. Writes are batched and asynchronous, never per request on the event loop; with several workers each appends whole lines with O_APPEND, so lines never interleave (on a local file system; NFS does not keep O_APPEND writes whole). A file that cannot be opened is warned about once and its entries counted in gatehouse_log_entries_dropped_total{reason=\"unwritable\"}. The entry has Kong's `kong.log.serialize()` shape: `request` (`id`, `uri`, `url`, `querystring`, `method`, `headers`, `tls` on https), `upstream_uri`, `upstream_status`, `response` (`status`, `headers`, `size`), `latencies` (`kong`, `proxy`, `request`, `receive`, in ms), `authenticated_entity`, `route`, `service`, `consumer`, `client_ip`, `started_at` (epoch ms), `source` (`upstream` or `kong`) and `correlation_id`. Left out, since the gateway does not know them: `request.size`, `tries`, `workspace`, `workspace_name`, `trace_id` and `request.tls.client_verify`; `response.size` counts body bytes only (Kong's counts the head too). A deliberate difference: Kong logs every request header but Authorization and Proxy-Authorization raw; here Authorization, Proxy-Authorization, Cookie, DPoP, Set-Cookie, `access_token` and every header or query parameter a `key-auth`, `jwt` or `session` instance of the configuration reads a credential from are `REDACTED`, in the URLs too; consumers appear by `id`, `username`, `custom_id` and `tags` only, services without their client certificate. Refusals are logged too (a 401 from an authentication plugin): the log phase runs for every plugin of the route, as Kong's does. Requests that match no route are not (they are in the access log).",
  )

export type FileLogConfig = z.output<typeof fileLogSchema>
