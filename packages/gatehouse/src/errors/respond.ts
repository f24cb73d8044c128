/**
 * The one JSON error envelope of the gateway and the admin API:
 * `{ message, code, error, statusCode, request_id? }`. `message` comes first and matches Kong's wording
 * where Kong has one, so clients written for Kong keep working; `code` is our stable GH_ERR_* code.
 * 5xx messages are generic unless the error is marked safe to expose.
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

export function errorEnvelope(err: GatehouseError, requestId?: string): ErrorEnvelope {
  const body: ErrorEnvelope = {
    message: err.expose ? err.message : 'An unexpected error occurred',
    code: err.code,
    error: STATUS_CODES[err.status] ?? 'Error',
    statusCode: err.status,
  }
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
