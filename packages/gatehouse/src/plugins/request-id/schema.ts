import { z } from 'zod'

export const requestIdSchema = z
  .strictObject({
    header_name: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'expected a header name' })
      .default('X-Request-ID')
      .describe(
        'Header carrying the id, to the upstream and (with echo_downstream) back to the client. The id itself is the one in the access log: the incoming X-Request-ID when well-formed, else a new UUID. Default: `X-Request-ID`.',
      ),
    echo_downstream: z
      .boolean()
      .default(true)
      .describe('Also return the id to the client in `header_name`. Default: true.'),
  })
  .describe(
    "Correlates a request across the client, Gatehouse's access log and the upstream by the gateway's own request id: the access log's and error bodies' `request_id`, always sent upstream as X-Request-ID. This plugin names another header for it and echoes it. Kong's `correlation-id` plugin is a separate id of its own (Kong-Request-ID by default, logged as `correlation_id`); the two may be used together.",
  )

export type RequestIdConfig = z.output<typeof requestIdSchema>
