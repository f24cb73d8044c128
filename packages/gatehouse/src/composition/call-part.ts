/**
 * One part of a composition: a GET through the service's pool, bounded by the part's timer, read whole
 * (at most 1 MiB) and checked to be JSON. The promise always resolves, with the answer's JSON text or a
 * coded failure, and resolves no later than the timer: the timer settles the part itself rather than
 * waiting for undici to notice the abort, so a connection that never answers cannot hold the response.
 */
import type { Dispatcher } from 'undici'
import type { GatehouseErrorCode } from '../errors/errors.ts'
import { classifyUpstreamError } from '../pipeline/forward.ts'
import type { PlannedPart } from './plan.ts'

/** The largest answer a part may give, in bytes. */
export const MAX_PART_BODY = 1024 * 1024

export interface PartAnswer {
  readonly ok: true
  /** The body as received: valid JSON text, spliced into the merged document unchanged. */
  readonly json: string
}

export interface PartFailure {
  readonly ok: false
  readonly code: GatehouseErrorCode
  /** A fixed text for the client's `_errors` entry; never holds a token or the upstream's body. */
  readonly message: string
  /** The upstream's status, when it answered. */
  readonly status: number | null
  /** The body of a non-2xx answer (a required part's 404 is passed through), else null. */
  readonly body: Buffer | null
  readonly contentType: string | null
  /** For the log only. */
  readonly detail: string | undefined
}

export type PartResult = PartAnswer | PartFailure

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i
const utf8 = new TextDecoder('utf-8', { fatal: true })

function failure(
  code: GatehouseErrorCode,
  message: string,
  more: { status?: number; body?: Buffer; contentType?: string | null; detail?: string } = {},
): PartFailure {
  return {
    ok: false,
    code,
    message,
    status: more.status ?? null,
    body: more.body ?? null,
    contentType: more.contentType ?? null,
    detail: more.detail,
  }
}

/**
 * Calls the part once its headers are known: they wait for the internal token, which may be signed
 * now, and reject when it cannot be. The timer runs from the call, so that wait counts too.
 */
export function callPart(
  part: PlannedPart,
  path: string,
  headers: Record<string, string> | Promise<Record<string, string>>,
  cancel: AbortSignal,
): Promise<PartResult> {
  return new Promise((resolve) => {
    const controller = new AbortController()
    let settled = false
    const settle = (result: PartResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      cancel.removeEventListener('abort', onCancel)
      resolve(result)
    }
    const timer = setTimeout(() => {
      settle(failure('GH_ERR_UPSTREAM_TIMEOUT', `no answer within ${part.timeout} ms`))
      controller.abort(new PartTimeout())
    }, part.timeout)
    const onCancel = () => {
      settle(failure('GH_ERR_UPSTREAM_UNAVAILABLE', 'the request was cancelled'))
      controller.abort(cancel.reason)
    }
    cancel.addEventListener('abort', onCancel, { once: true })
    if (!part.service.enabled) {
      if (headers instanceof Promise) headers.catch(() => {})
      settle(failure('GH_ERR_SERVICE_DISABLED', 'the service is disabled'))
      return
    }
    const send = (h: Record<string, string>) => {
      if (settled) return
      fetchPart(part, path, h, controller.signal).then(settle, (err: Error) => settle(classify(err)))
    }
    if (headers instanceof Promise) headers.then(send, () => settle(TOKEN_UNAVAILABLE))
    else send(headers)
  })
}

/** The internal token for the part's audience could not be signed (the plugin logged why). */
const TOKEN_UNAVAILABLE = failure(
  'GH_ERR_INTERNAL_TOKEN_UNAVAILABLE',
  'the gateway could not sign an internal token for this part',
)

class PartTimeout extends Error {
  readonly code = 'GH_PART_TIMEOUT'
}

async function fetchPart(
  part: PlannedPart,
  path: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<PartResult> {
  const res = await part.upstream.pool.request({
    method: 'GET',
    path,
    headers,
    signal,
    headersTimeout: part.timeout,
    bodyTimeout: part.timeout,
  })
  const status = res.statusCode
  const contentType = headerValue(res.headers['content-type'])
  const body = await readBounded(res.body, res.headers['content-length'])
  if (body === null) {
    return failure('GH_ERR_UPSTREAM_INVALID_RESPONSE', `the answer is larger than ${MAX_PART_BODY} bytes`, {
      status,
    })
  }
  if (status < 200 || status > 299) return answeredOtherwise(status, body, contentType)
  if (contentType !== null && !JSON_TYPE.test(contentType)) {
    return failure('GH_ERR_UPSTREAM_INVALID_RESPONSE', 'the answer is not JSON', {
      status,
      detail: `content-type ${contentType}`,
    })
  }
  let text: string
  try {
    text = utf8.decode(body)
    JSON.parse(text)
  } catch (err) {
    return failure('GH_ERR_UPSTREAM_INVALID_RESPONSE', 'the answer is not JSON', {
      status,
      detail: (err as Error).message,
    })
  }
  return { ok: true, json: text }
}

/**
 * A valid answer that is not the part's document. 4xx is the service's own decision (its authorization,
 * its validation, not found) and 5xx its own failure; each has its code, so neither reads as a broken
 * answer. Anything else (a redirect, which a part does not follow) cannot be used: invalid.
 */
function answeredOtherwise(status: number, body: Buffer, contentType: string | null): PartFailure {
  const answer = { status, body, contentType }
  if (status >= 400 && status <= 499)
    return failure('GH_ERR_COMPOSITION_PART_REFUSED', `the service refused the request (${status})`, answer)
  if (status >= 500)
    return failure('GH_ERR_COMPOSITION_PART_FAILED', `the service failed to answer (${status})`, answer)
  return failure('GH_ERR_UPSTREAM_INVALID_RESPONSE', `the service answered ${status}`, answer)
}

/** The whole body, or null (and the rest discarded) once it passes MAX_PART_BODY. */
async function readBounded(
  body: Dispatcher.ResponseData['body'],
  length: string | string[] | undefined,
): Promise<Buffer | null> {
  if (typeof length === 'string' && Number(length) > MAX_PART_BODY) {
    body.destroy()
    return null
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > MAX_PART_BODY) return null // leaving the loop destroys the stream
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size)
}

function headerValue(value: string | string[] | undefined): string | null {
  return value === undefined ? null : Array.isArray(value) ? (value[0] ?? null) : value
}

const MESSAGES: Partial<Record<GatehouseErrorCode, string>> = {
  GH_ERR_UPSTREAM_TIMEOUT: 'no answer in time',
  GH_ERR_UPSTREAM_UNAVAILABLE: 'the service refused or dropped the connection',
  GH_ERR_UPSTREAM_INVALID_RESPONSE: 'the service sent an invalid HTTP response',
}

function classify(err: Error & { code?: string }): PartFailure {
  const classified = classifyUpstreamError(err)
  const code = classified?.code ?? 'GH_ERR_UPSTREAM_UNAVAILABLE'
  return failure(code, MESSAGES[code] ?? 'the call failed', {
    detail: classified?.detail ?? `${err.code ?? err.name}: ${err.message}`,
  })
}
