/** Small helpers the admin resources share: JSON replies, coded errors, bounded body reading. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { GatehouseError } from '../errors/errors.ts'
import { errorEnvelope } from '../errors/respond.ts'

export interface AdminRequest {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  /** Path parameters captured by the resource's route pattern. */
  readonly params: Readonly<Record<string, string>>
}

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
): void {
  sendJson(res, err.status, { ...errorEnvelope(err), ...extra })
}

/** Reads the whole body, refusing more than `limit` bytes with 413. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN)
  if (declared > limit) throw tooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function tooLarge(limit: number): GatehouseError {
  return new GatehouseError(
    'GH_ERR_ADMIN_BODY_TOO_LARGE',
    `request body exceeds ${limit} bytes (admin.max_body_size)`,
  )
}
