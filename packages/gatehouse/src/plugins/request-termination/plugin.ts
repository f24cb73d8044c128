/**
 * request-termination: answers the request itself, as Kong's plugin does: a status with Kong's message
 * (or the configured one), a raw body, or an echo of the request; with `trigger`, only for requests that
 * carry that header or query parameter. An error status answers through the gateway's one error body
 * (Kong's `message` first) and is logged with its code; a raw `body` is sent as written.
 */
import { STATUS_CODES } from 'node:http'
import { GatehouseError } from '../../errors/errors.ts'
import type { HeaderMap, RequestState } from '../../pipeline/request-state.ts'
import { exitWithError } from '../../pipeline/respond.ts'
import type { GatewayPlugin, PluginHandler } from '../types.ts'
import { echoDocument } from './echo.ts'
import { type RequestTerminationConfig, requestTerminationSchema } from './schema.ts'

/** Kong's default messages (kong/plugins/request-termination/handler.lua DEFAULT_RESPONSE). */
const DEFAULT_MESSAGE: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  404: 'Not found',
  405: 'Method not allowed',
  500: 'An unexpected error occurred',
  502: 'Bad Gateway',
  503: 'Service unavailable',
}

/**
 * The `request-termination` plugin (Kong's contract, priority 2).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: request-termination
 *     route: legacy
 *     config: { status_code: 410, message: This API was retired on 2025-01-31 }
 * ```
 */
export const plugin: GatewayPlugin<RequestTerminationConfig> = {
  name: 'request-termination',
  version: '1.0.0',
  // Kong's 2: after authentication, authorisation and limits, so it can be scoped to a consumer. The
  // logging band is where that number lies; the plugin logs nothing.
  priority: 2,
  band: 'logging',
  description:
    'Answers requests itself with a status and a message or body, or echoes them, without calling the upstream.',
  schema: requestTerminationSchema,
  create(config) {
    const status = config.status_code
    const message = config.message || DEFAULT_MESSAGE[status] || null
    // 204 and 304 carry no body (RFC 9110 §15.3.5, §15.4.5), whatever is configured.
    const bodiless = status === 204 || status === 304
    const rawBody = config.body || null
    const headers: HeaderMap | undefined = config.content_type
      ? { 'content-type': config.content_type }
      : undefined
    const trigger = config.trigger ? config.trigger : null
    const triggerHeader = trigger?.toLowerCase() ?? null

    const triggered = (state: RequestState): boolean =>
      trigger === null ||
      state.req.headers[triggerHeader!] !== undefined ||
      (state.query.length > 1 && new URLSearchParams(state.query).has(trigger))

    const answer = (state: RequestState, content: Record<string, unknown> | string | undefined): void => {
      if (status < 400) {
        state.exit(status, bodiless ? undefined : content, headers)
        return
      }
      const text = message ?? STATUS_CODES[status] ?? 'Request terminated'
      const err = new GatehouseError('GH_ERR_REQUEST_TERMINATED', text, { detail: 'request_terminated' })
      exitWithError(state, err, status, content ?? { message: text }, headers)
    }

    const handler: PluginHandler = config.echo
      ? {
          readsBody: triggered,
          async access(state) {
            if (!triggered(state)) return
            const body = await state.readBody()
            answer(state, echoDocument(state, message, body))
          },
        }
      : {
          access(state) {
            if (!triggered(state)) return
            answer(state, rawBody ?? (message !== null ? { message } : undefined))
          },
        }
    return handler
  },
}
