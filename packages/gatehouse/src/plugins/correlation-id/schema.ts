/** Config of the correlation-id plugin: Kong's correlation-id schema (3.x), so a Kong file loads unchanged. */
import { z } from 'zod'

export const GENERATORS = ['uuid', 'uuid#counter', 'tracker'] as const

export const correlationIdSchema = z
  .strictObject({
    header_name: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'expected a header name' })
      .default('Kong-Request-ID')
      .describe(
        "The header carrying the correlation id: an incoming one that is not empty is kept (and reaches the upstream as sent), else one is generated and sent upstream in it. With `X-Request-ID` the correlation id is the gateway's request id (kept when well-formed, else a UUID) and `generator` is not used. Default: `Kong-Request-ID`.",
      ),
    generator: z
      .enum(GENERATORS, { error: `expected one of ${GENERATORS.join(', ')}` })
      .default('uuid#counter')
      .describe(
        "How a missing id is made: `uuid` (a random UUID per request), `uuid#counter` (a UUID per gateway process, then `#` and a counter: cheap, and unique while the process lives), or `tracker` (Kong's `server address-server port-pid-connection serial-request on the connection-seconds.milliseconds`). Default: `uuid#counter`.",
      ),
    echo_downstream: z
      .boolean()
      .default(false)
      .describe(
        'Also send the id back to the client in `header_name`, on every answer (errors included). Default: false.',
      ),
  })
  .describe(
    "Kong's correlation-id: an id of the client's or this plugin's making that travels to the upstream in `header_name` (Kong-Request-ID by default) and is logged as `correlation_id` in the access log. It is not the gateway's request id: that one is always sent upstream as X-Request-ID, is the access log's `request_id` and the error bodies' `request_id`, and is replaced when an incoming one is malformed (the `request-id` plugin names its header and echoes it). Use correlation-id to carry a Kong-style id as Kong files expect; both run first (priority 100001, correlation-id before request-id by name) and may be used together.",
  )

export type CorrelationIdConfig = z.output<typeof correlationIdSchema>
