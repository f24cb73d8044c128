/**
 * `validate_request_body` (Kong's `validate_body`): the `Digest` header must be exactly
 * `SHA-256=<base64 of the body's SHA-256>`; without `Digest` only an empty body passes. Reading the body
 * is bounded by proxy.max_buffered_body_size (state.readBody); the read body is what goes upstream.
 */
import { createHash } from 'node:crypto'
import type { RequestState } from '../../pipeline/request-state.ts'

/** Whether the request announces a body (so `validate_request_body` will read it). */
export function hasBody(state: RequestState): boolean {
  const length = state.req.headers['content-length']
  if (length === undefined) return state.req.headers['transfer-encoding'] !== undefined
  return length !== '0'
}

export function digestMatches(body: Buffer, digest: string | string[] | undefined): boolean {
  if (digest === undefined) return body.length === 0
  if (typeof digest !== 'string') return false
  return digest === `SHA-256=${createHash('sha256').update(body).digest('base64')}`
}
