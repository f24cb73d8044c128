/**
 * request-size-limiting: Kong's plugin of that name. Content-Length over the limit → 413 at once; a chunked
 * body gets a bound the pipeline counts as it streams (state.bodyLimit, pipeline/body-limit.ts) rather
 * than being buffered whole as Kong does, so a 128 MiB limit never costs 128 MiB of memory.
 */
import { GatehouseError } from '../../errors/errors.ts'
import { exitWithError } from '../../pipeline/respond.ts'
import type { GatewayPlugin } from '../types.ts'
import { type RequestSizeLimitingConfig, requestSizeLimitingSchema, UNIT_BYTES } from './schema.ts'

const TOO_LARGE = 'Request size limit exceeded'
const LENGTH_REQUIRED = 'A valid Content-Length header is required'

/**
 * The `request-size-limiting` plugin (Kong's contract, priority 951).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: request-size-limiting
 *     service: uploads
 *     config: { allowed_payload_size: 10, size_unit: megabytes }
 * ```
 */
export const plugin: GatewayPlugin<RequestSizeLimitingConfig> = {
  name: 'request-size-limiting',
  version: '1.0.0',
  priority: 951,
  band: 'authorization',
  description: 'Refuses request bodies over a size with 413, counting chunked bodies as they stream.',
  schema: requestSizeLimitingSchema,
  create(config) {
    const allowed = config.allowed_payload_size * UNIT_BYTES[config.size_unit]
    const requireLength = config.require_content_length
    return {
      access(state) {
        const headers = state.req.headers
        // Kong answers 417 to a client still waiting to send its body, 413 otherwise.
        const status = headers.expect?.trim().toLowerCase() === '100-continue' ? 417 : 413
        const length = headers['content-length']
        if (length !== undefined) {
          // Node's parser has already refused anything but one run of digits.
          if (Number(length) > allowed) refuse(status, 'content_length_over_limit')
          return
        }
        if (headers['transfer-encoding'] === undefined) {
          // No body at all (node:http refuses any other framing).
          if (requireLength) {
            const err = new GatehouseError('GH_ERR_REQUEST_LENGTH_REQUIRED', LENGTH_REQUIRED, {
              detail: 'content_length_missing',
            })
            exitWithError(state, err, 411, { message: LENGTH_REQUIRED })
          }
          return
        }
        // An earlier plugin (key-auth's key_in_body) may have read the body already.
        const read = state.upstreamBody
        if (read !== null) {
          if (read.length > allowed) refuse(status, 'body_over_limit')
          return
        }
        state.bodyLimit = { bytes: allowed, error: tooLarge('body_over_limit'), status }

        function refuse(answer: number, reason: string): void {
          exitWithError(state, tooLarge(reason), answer, { message: TOO_LARGE })
        }
      },
    }
  },
}

function tooLarge(reason: string): GatehouseError {
  return new GatehouseError('GH_ERR_REQUEST_SIZE_LIMIT_EXCEEDED', TOO_LARGE, { detail: reason })
}
