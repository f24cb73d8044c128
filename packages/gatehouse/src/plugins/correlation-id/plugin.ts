/**
 * correlation-id: Kong's plugin of that name. An id travels to the upstream in `header_name`: the
 * client's when it sent one that is not blank, else a generated one; it is logged as `correlation_id`
 * and, with echo_downstream, returned to the client on every answer, errors included.
 *
 * It coexists with the gateway's own request id (X-Request-ID, always sent upstream, the access log's
 * `request_id`): the two are different ids unless `header_name` is X-Request-ID, where the core has
 * already chosen the value (kept when well-formed, else a UUID) and this plugin adopts it rather than
 * sending the upstream a second, different X-Request-ID.
 */
import type { GatewayPlugin, PluginHandler } from '../types.ts'
import { generators } from './generators.ts'
import { type CorrelationIdConfig, correlationIdSchema } from './schema.ts'

/**
 * The `correlation-id` plugin (Kong's contract, priority 100001).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: correlation-id
 *     config: { header_name: Kong-Request-ID, generator: uuid#counter, echo_downstream: true }
 * ```
 */
export const plugin: GatewayPlugin<CorrelationIdConfig> = {
  name: 'correlation-id',
  version: '1.0.0',
  priority: 100_001,
  band: 'tracing',
  description:
    "Carries a correlation id (the client's, or a generated one) to the upstream in Kong-Request-ID, logs it, and optionally echoes it.",
  schema: correlationIdSchema,
  create(config) {
    const header = config.header_name.toLowerCase()
    const generate = generators[config.generator]
    const adoptsRequestId = header === 'x-request-id'
    const handler: PluginHandler = {
      access(state) {
        let id: string
        if (adoptsRequestId) id = state.requestId
        else {
          const incoming = state.req.headers[header]
          const sent = typeof incoming === 'string' ? incoming.trim() : ''
          if (sent !== '') id = sent
          else {
            id = generate(state)
            state.setUpstreamHeader(header, id)
          }
        }
        state.correlationId = id
      },
    }
    if (config.echo_downstream) {
      handler.response = (state) => {
        // Access ran before (this plugin runs first), so the id is known; generated only as Kong's fallback.
        state.response!.headers[header] = state.correlationId ?? generate(state)
      }
    }
    return handler
  },
}
