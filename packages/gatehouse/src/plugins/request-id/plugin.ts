/**
 * request-id: names the header that carries the request id (X-Request-ID by default, which the proxy
 * always sends upstream) and echoes it to the client, so a support ticket can quote the id that the
 * access log and the upstream's logs share.
 */
import type { GatewayPlugin, PluginHandler } from '../types.ts'
import { type RequestIdConfig, requestIdSchema } from './schema.ts'

export const plugin: GatewayPlugin<RequestIdConfig> = {
  name: 'request-id',
  version: '1.0.0',
  priority: 100_001,
  band: 'tracing',
  description: 'Sends the request id upstream under a configurable header and echoes it to the client.',
  schema: requestIdSchema,
  create(config) {
    const header = config.header_name.toLowerCase()
    const handler: PluginHandler = {}
    if (header !== 'x-request-id') {
      handler.access = (state) => {
        state.setUpstreamHeader(header, state.requestId)
      }
    }
    if (config.echo_downstream) {
      handler.response = (state) => {
        state.response!.headers[header] = state.requestId
      }
    }
    return handler
  },
}
