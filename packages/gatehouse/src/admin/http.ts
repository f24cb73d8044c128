/** Small helpers the admin resources share: JSON replies, coded errors, bounded body reading. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { z } from 'zod'
import { GatehouseError } from '../errors/errors.ts'
import { ERROR_CODE_HEADER, errorEnvelope } from '../errors/respond.ts'
import type { Logger } from '../observability/logger.ts'
import type { AdminContext } from './context.ts'

export interface AdminRequest {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  /** The path parameters of the route's template (`{service}`), percent-decoded (dispatch.ts). */
  readonly params: Readonly<Record<string, string>>
}

/** What a handler may use besides the gateway: the listener's settings of this request. */
export interface AdminEnv {
  readonly maxBodySize: number
  readonly logger: Logger
}

/** One route's handler (routes.ts); the guards and the route's match ran before it. */
export type AdminHandler = (ctx: AdminContext, a: AdminRequest, env: AdminEnv) => void | Promise<void>

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = status === 204 || status === 304 ? '' : JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(payload)
}

export function sendError(
  res: ServerResponse,
  err: GatehouseError,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    err.status,
    { ...errorEnvelope(err), ...extra },
    { ...headers, [ERROR_CODE_HEADER]: err.code },
  )
}

/**
 * Reads the whole body, refusing more than `limit` bytes with 413. On refusal the rest of the body is
 * read and discarded rather than the request destroyed: destroying it resets the socket, and the client
 * (still sending) then sees ECONNRESET instead of the 413.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN)
  if (declared > limit) return Promise.reject(tooLarge(limit))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) {
        chunks.push(chunk)
        return
      }
      req.off('data', onData).off('end', onEnd)
      req.resume()
      reject(tooLarge(limit))
    }
    const onEnd = () => resolve(Buffer.concat(chunks))
    req.on('data', onData).once('end', onEnd).once('error', reject)
  })
}

function tooLarge(limit: number): GatehouseError {
  return new GatehouseError(
    'GH_ERR_ADMIN_BODY_TOO_LARGE',
    `request body exceeds ${limit} bytes (admin.max_body_size)`,
  )
}

/** A JSON body checked by `schema`, or the 400 naming the first problem and the key it is at. */
export function parseJsonBody<S extends z.ZodType>(raw: Buffer, schema: S): z.output<S> | GatehouseError {
  let json: unknown
  try {
    json = JSON.parse(raw.toString('utf8'))
  } catch {
    return new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'the body must be a JSON object')
  }
  const checked = schema.safeParse(json)
  if (checked.success) return checked.data
  const issue = checked.error.issues[0]!
  const at = issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''
  return new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', `${at}${issue.message}`)
}
