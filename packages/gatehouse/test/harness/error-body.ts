/**
 * Checks an error answer the gateway made itself against the rule of docs/errors.md: the body is one
 * JSON object whose first members are Kong's (or the plugin protocol's), exactly and in order, followed
 * by `message` (when those have none), `code`, `error` (the reason phrase, unless theirs has one),
 * `statusCode` and `request_id`; `X-Gatehouse-Error` carries the code and `X-Request-ID` the request id.
 */
import assert from 'node:assert/strict'
import { type IncomingHttpHeaders, STATUS_CODES } from 'node:http'

/** The answer as read: a RawResponse, or a fetch Response's status, headers and text. */
export interface ErrorAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders | Headers
  readonly body: string
}

export interface ExpectedError {
  /** The members Kong's body has (or the plugin protocol's: OAuth's `error`, `error_description`), in order. */
  readonly kong?: Readonly<Record<string, unknown>>
  readonly code: string
  /** The `message` the gateway adds when `kong` has none. */
  readonly message?: string
}

const OURS = ['message', 'code', 'error', 'statusCode', 'request_id'] as const

function header(headers: IncomingHttpHeaders | Headers, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined
  const value = headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** Asserts the rule and returns the parsed body. */
export function assertErrorBody(answer: ErrorAnswer, expected: ExpectedError): Record<string, unknown> {
  const kong = expected.kong ?? {}
  assert.match(header(answer.headers, 'content-type') ?? '', /^application\/json/, answer.body)
  const body = JSON.parse(answer.body) as Record<string, unknown>
  const order = [...Object.keys(kong), ...OURS.filter((k) => !(k in kong))]
  assert.deepEqual(Object.keys(body), order, `members in order: ${answer.body}`)
  for (const [k, v] of Object.entries(kong)) assert.deepEqual(body[k], v, `Kong's ${k}`)
  if (expected.message !== undefined) assert.equal(body.message, expected.message)
  assert.equal(typeof body.message, 'string')
  assert.equal(body.code, expected.code)
  if (!('error' in kong)) assert.equal(body.error, STATUS_CODES[answer.status])
  assert.equal(body.statusCode, answer.status)
  assert.equal(typeof body.request_id, 'string')
  assert.equal(header(answer.headers, 'x-gatehouse-error'), expected.code, 'X-Gatehouse-Error')
  assert.equal(header(answer.headers, 'x-request-id'), body.request_id, 'X-Request-ID is the body request_id')
  return body
}

/** The same for a fetch Response (reads its body). */
export async function assertFetchedError(
  res: Response,
  expected: ExpectedError,
): Promise<Record<string, unknown>> {
  return assertErrorBody({ status: res.status, headers: res.headers, body: await res.text() }, expected)
}
