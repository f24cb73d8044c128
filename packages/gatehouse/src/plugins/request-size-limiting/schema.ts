/** Config of the request-size-limiting plugin: Kong's schema (3.x), so a Kong file loads unchanged. */
import { z } from 'zod'

export const SIZE_UNITS = ['megabytes', 'kilobytes', 'bytes'] as const

/** Kong's factors: binary units (a "megabyte" is 2^20 bytes). */
export const UNIT_BYTES: Readonly<Record<(typeof SIZE_UNITS)[number], number>> = {
  megabytes: 1_048_576,
  kilobytes: 1024,
  bytes: 1,
}

export const requestSizeLimitingSchema = z
  .strictObject({
    allowed_payload_size: z
      .int({ error: 'expected an integer' })
      .min(0, { error: 'must not be negative' })
      .default(128)
      .describe('The largest request body allowed, in `size_unit`s. Default: 128 (megabytes: 128 MiB).'),
    size_unit: z
      .enum(SIZE_UNITS, { error: `expected one of: ${SIZE_UNITS.join(', ')}` })
      .default('megabytes')
      .describe(
        'The unit of `allowed_payload_size`: `megabytes` (2^20 bytes), `kilobytes` (2^10 bytes) or `bytes`. Default: `megabytes`.',
      ),
    require_content_length: z
      .boolean()
      .default(false)
      .describe(
        'Refuse with 411 a request that has no Content-Length, unless its body is chunked, as Kong does (a request without a body needs `Content-Length: 0` then). Default: false.',
      ),
  })
  .describe(
    "Limits the size of request bodies (Kong's request-size-limiting): 413 `Request size limit exceeded` (417 when the client sent `Expect: 100-continue` and waits to send its body). A body announced by Content-Length is judged before any of it is read. A chunked body (or an HTTP/2 body without Content-Length) is not buffered, as Kong does, but counted as it streams to the upstream: the chunk that crosses the limit is not forwarded and the upstream request is aborted, so the upstream never receives a complete over-limit body (it may see the request's start, then the connection closed); the client gets the 413 unless the upstream answered before the body ended.",
  )

export type RequestSizeLimitingConfig = z.output<typeof requestSizeLimitingSchema>
