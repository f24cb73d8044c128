/**
 * Config of the cors plugin: Kong's cors schema (3.x), so a Kong file loads unchanged. Kong writes unset
 * optional fields as `null` in exports, so those accept `null` as "unset".
 */
import { z } from 'zod'

/** Kong's default and accepted `methods`. */
export const CORS_METHODS = [
  'GET',
  'HEAD',
  'PUT',
  'PATCH',
  'POST',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
] as const

/** Kong treats an origin entry as a regular expression when it has a character outside this set. */
export const PLAIN_ORIGIN = /^[A-Za-z0-9.:/-]+$/

/** A value Node can put in a header: no control characters or line breaks (RFC 9110 §5.5). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

const origin = z
  .string()
  .min(1, { error: 'must not be empty' })
  .superRefine((value, ctx) => {
    if (value === '*' || PLAIN_ORIGIN.test(value)) return
    try {
      new RegExp(value)
    } catch {
      ctx.addIssue({ code: 'custom', message: `'${value}' is not a valid regex` })
    }
  })

const headerList = z.array(
  z.string().min(1, { error: 'must not be empty' }).regex(HEADER_VALUE, {
    error: 'contains characters not allowed in a header (control characters or line breaks)',
  }),
)

export const corsSchema = z
  .strictObject({
    origins: z
      .array(origin)
      .nullish()
      .describe(
        'Origins allowed to read responses: `*`, exact origins such as `https://app.example.com` (a default port is ignored), or regular expressions (an entry with a character outside `A-Z a-z 0-9 . : / -`), matched against the whole origin when they contain `:`, else against its host, and anchored at both ends. Default: unset, which allows any origin, like `*`.',
      ),
    methods: z
      .array(z.enum(CORS_METHODS, { error: `expected one of ${CORS_METHODS.join(', ')}` }))
      .default([...CORS_METHODS])
      .describe(
        'Value of Access-Control-Allow-Methods on preflight answers. Default: `GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS, TRACE, CONNECT`.',
      ),
    headers: headerList
      .nullish()
      .describe(
        "Value of Access-Control-Allow-Headers on preflight answers. Default: unset, which echoes the preflight's Access-Control-Request-Headers.",
      ),
    exposed_headers: headerList
      .nullish()
      .describe('Value of Access-Control-Expose-Headers on actual responses. Default: unset (none sent).'),
    credentials: z
      .boolean()
      .default(false)
      .describe(
        'Send `Access-Control-Allow-Credentials: true`. With `*` origins the request Origin is echoed instead of `*`, which browsers refuse together with credentials. Default: false.',
      ),
    max_age: z
      .int({ error: 'expected a whole number of seconds' })
      .min(0, { error: 'must not be negative' })
      .nullish()
      .describe(
        'Seconds a browser may cache a preflight answer (Access-Control-Max-Age). Default: unset (the browser decides).',
      ),
    preflight_continue: z
      .boolean()
      .default(false)
      .describe(
        'Proxy preflight requests to the upstream, which then answers them itself, instead of answering them in the gateway. Default: false.',
      ),
    private_network: z
      .boolean()
      .default(false)
      .describe(
        'Answer `Access-Control-Allow-Private-Network: true` to preflights that ask for it (Private Network Access). Default: false.',
      ),
    allow_origin_absent: z
      .boolean()
      .default(true)
      .describe(
        'Add CORS headers to responses to requests without an Origin header too, as Kong does (Kong 3.7+). Default: true.',
      ),
  })
  .describe("Cross-origin resource sharing for browser clients (Kong's cors).")

export type CorsConfig = z.output<typeof corsSchema>
