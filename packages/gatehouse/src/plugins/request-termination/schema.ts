/**
 * Config of the request-termination plugin: Kong's request-termination schema (3.x) and its cross-field
 * messages, so a Kong file loads unchanged. Stricter where Kong would fail at request time or send
 * something no client can read: a 1xx status (not a final response), and a `content_type` that could not
 * be sent in a header.
 */
import { z } from 'zod'

/** A value Node can put in a header: no control characters or line breaks (RFC 9110 §5.5). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/** Kong's `typedefs.header_name` and its messages (kong/tools/http.lua validate_header_name). */
const headerName = z.string().superRefine((name, ctx) => {
  if (name === '') ctx.addIssue({ code: 'custom', message: 'no header name provided' })
  else if (!/^[A-Za-z0-9_-]+$/.test(name))
    ctx.addIssue({
      code: 'custom',
      message: `bad header name '${name}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`,
    })
})

const present = (v: string | null | undefined): v is string => typeof v === 'string' && v.length > 0

export const requestTerminationSchema = z
  .strictObject({
    status_code: z
      .int({ error: 'expected an integer' })
      .min(200, { error: 'value should be between 200 and 599 (a 1xx status is no final response)' })
      .max(599, { error: 'value should be between 200 and 599 (a 1xx status is no final response)' })
      .default(503)
      .describe(
        "The status to answer with. Kong allows 100–599; a 1xx is refused here, since a client takes it for an interim response and waits for another. An error status (400 and up) answers in the gateway's error body, Kong's `message` first. Default: 503.",
      ),
    message: z
      .string()
      .nullish()
      .describe(
        "The `message` of the JSON answer. Not with `body` or `content_type`. Default: Kong's text for the status (401 Unauthorized, 404 Not found, 405 Method not allowed, 500 An unexpected error occurred, 502 Bad Gateway, 503 Service unavailable; other statuses below 400 send no body).",
      ),
    content_type: z
      .string()
      .regex(HEADER_VALUE, {
        error: 'contains characters not allowed in a header (control characters or line breaks)',
      })
      .nullish()
      .describe('Content-Type of `body`; requires `body`. Default: unset (no Content-Type, as Kong).'),
    body: z
      .string()
      .nullish()
      .describe('A raw body to answer with, sent as written. Not with `message` or `echo`. Default: unset.'),
    echo: z
      .boolean()
      .default(false)
      .describe(
        "Answer with a JSON copy of the request instead, for debugging (with `trigger`, on live traffic): `message`, `kong` (pid, hostname), `request` (scheme, host, port, method, path, headers, query, body, raw_body, uri_captures), `matched_route` and `matched_service`. Unlike Kong it hides the values of Authorization, Proxy-Authorization and Cookie (a page's script could read an HttpOnly cookie through it), and shows the route's and service's identifying and routing fields only, not their TLS material. The body is read up to proxy.max_buffered_body_size (413 beyond). Default: false.",
      ),
    trigger: headerName
      .nullish()
      .describe(
        'Terminate only requests that carry a header or a query parameter of this name (any value); others pass on untouched. Default: unset (every request).',
      ),
  })
  .superRefine((c, ctx) => {
    const problem =
      present(c.message) && (present(c.content_type) || present(c.body))
        ? 'message cannot be used with content_type or body'
        : present(c.content_type) && !present(c.body)
          ? 'content_type requires a body'
          : c.echo && (present(c.content_type) || present(c.body))
            ? 'echo cannot be used with content_type and body'
            : null
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem })
  })
  .describe(
    "Answers requests itself with a fixed status and message or body, or an echo of the request, without calling the upstream (Kong's request-termination). It runs last (priority 2), after authentication, authorisation and rate limiting, so it may be scoped to a consumer, e.g. to shut one out.",
  )

export type RequestTerminationConfig = z.output<typeof requestTerminationSchema>
