/**
 * The one bound on request bodies the gateway reads into memory: proxy.max_buffered_body_size. Bodies
 * no plugin reads stream to the upstream unbounded; a body a plugin must read (key-auth's key_in_body)
 * gets 413 as soon as it is known to be larger: from Content-Length before any plugin runs
 * (`bodyTooLarge`, here), from Content-Length again when `state.readBody` is called, or from the bytes
 * received for a chunked body.
 *
 * A plugin may bound a body of unannounced length (chunked) that streams to the upstream unread
 * (request-size-limiting): `state.bodyLimit`. The bytes are counted as they arrive (attempt-body.ts, and
 * `readBody` when a plugin reads the body), and the body is cut off before the chunk that crosses the
 * bound goes upstream: the upstream request is aborted, so the upstream never receives a complete
 * over-limit body, and the client gets the plugin's answer unless the upstream already answered.
 */
import { GatehouseError } from '../errors/errors.ts'
import type { PluginHandler } from '../plugins/types.ts'
import type { RequestState } from './request-state.ts'

/** The 413 for a body over `limit` bytes. */
export function bodyLimitError(limit: number): GatehouseError {
  return new GatehouseError(
    'GH_ERR_REQUEST_BODY_TOO_LARGE',
    `Request body is larger than ${limit} bytes (proxy.max_buffered_body_size)`,
  )
}

/** The body's Content-Length when it announces more than `limit` bytes, else -1. */
export function announcedOver(state: RequestState, limit: number): number {
  const length = state.req.headers['content-length']
  if (length === undefined) return -1
  // Node's parser has already refused anything but one run of digits.
  const n = Number(length)
  return n > limit ? n : -1
}

/**
 * The 413 for a request whose Content-Length exceeds the limit when one of the route's plugins will
 * read its body (`readers`, the chain's bodyReaders), else null.
 */
export function bodyTooLarge(state: RequestState, readers: readonly PluginHandler[]): GatehouseError | null {
  const limit = state.runtime.config.settings.proxy.max_buffered_body_size
  if (announcedOver(state, limit) === -1) return null
  for (const handler of readers) if (handler.readsBody!(state)) return bodyLimitError(limit)
  return null
}

/** A bound a plugin puts on a body of unannounced length, and its answer once the body crosses it. */
export interface StreamedBodyLimit {
  readonly bytes: number
  readonly error: GatehouseError
  /** The status answered (the error's own, or another, e.g. 417 for `Expect: 100-continue`). */
  readonly status: number
}

/** What a streamed body is destroyed with when it crosses `state.bodyLimit` (forward.ts answers it). */
export class BodyLimitExceededError extends Error {
  readonly code = BODY_LIMIT_EXCEEDED
}

export const BODY_LIMIT_EXCEEDED = 'GH_BODY_LIMIT_EXCEEDED'
