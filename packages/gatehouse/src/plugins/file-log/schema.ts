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
    "Kong's file-log: every request on the route is appended to `path` as one line of Kong's log entry (`kong.log.serialize()`'s shape: request, response, route, service, consumer, latencies, client_ip, started_at, upstream_uri, …), with every credential redacted. Writes are batched and asynchronous, never per request on the event loop; with several workers each appends whole lines with O_APPEND, so lines never interleave.",
  )

export type FileLogConfig = z.output<typeof fileLogSchema>
