/**
 * The one JSON error body of the gateway and the admin API, built here and nowhere else.
 *
 * Kong clients must keep working, and Kong ≥ 3.5 already adds `request_id` after its own members, so the
 * rule is: the members the answer has in Kong (or in the plugin's protocol: openid-connect's RFC 6750
 * `error` and `error_description`) come first, exactly as sent there, then ours: `message` (when Kong has
 * none), `code` (our stable GH_ERR_* code), `error` (the status's reason phrase, unless the plugin's own
 * `error` is already there), `statusCode` and `request_id`. Errors without a Kong answer are the
 * envelope alone: `{ message, code, error, statusCode, request_id? }`. 5xx messages are generic unless
 * the error is marked safe to expose. docs/errors.md states the rule (scripts/docs/errors.ts).
 */
import { STATUS_CODES } from 'node:http'
import { GatehouseError } from './errors.ts'

export interface ErrorEnvelope {
  message: string
  code: string
  error: string
  statusCode: number
  request_id?: string
}

/**
 * The header every error response the gateway makes itself carries (JSON or not), with the code: a
 * client tells a gateway refusal from an upstream's answer without parsing the body.
 */
export const ERROR_CODE_HEADER = 'x-gatehouse-error'

export function errorEnvelope(err: GatehouseError, requestId?: string): ErrorEnvelope {
  return errorBody(err, err.status, requestId) as unknown as ErrorEnvelope
}

/**
 * The body for `err` answered with `status` (a plugin may answer with another status than its code's,
 * e.g. rate-limiting's `error_code`). `own` is the answer's body in Kong, or in the plugin's protocol:
 * its members come first and keep their values; ours follow.
 *
 * @example
 * errorBody(err, 401, 'b5c…', { message: 'No API key found in request' })
 * // { message: 'No API key found in request', code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
 * //   error: 'Unauthorized', statusCode: 401, request_id: 'b5c…' }
 */
export function errorBody(
  err: GatehouseError,
  status: number,
  requestId: string | undefined,
  own?: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const body: Record<string, unknown> = own === undefined ? {} : { ...own }
  if (typeof body.message !== 'string')
    body.message = err.expose ? err.message : 'An unexpected error occurred'
  body.code = err.code
  if (body.error === undefined) body.error = STATUS_CODES[status] ?? 'Error'
  body.statusCode = status
  if (requestId !== undefined) body.request_id = requestId
  return body
}

/** Any thrown value as a GatehouseError (unknown errors become GH_ERR_INTERNAL_UNEXPECTED, details kept for logs). */
export function toGatehouseError(err: unknown): GatehouseError {
  if (err instanceof GatehouseError) return err
  return new GatehouseError('GH_ERR_INTERNAL_UNEXPECTED', 'An unexpected error occurred', {
    detail: (err as Error)?.stack ?? String(err),
    cause: err,
  })
}
