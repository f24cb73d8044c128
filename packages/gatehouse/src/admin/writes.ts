/**
 * Entity writes in DB mode, on Kong 3.x's paths: `POST /services`, `/routes`, `/consumers`, `/plugins`
 * and the credential collections (`/key-auths`, `/jwts`, `/basic-auths`, `/acls`); `PUT`, `PATCH` and
 * `DELETE` on `/{collection}/{id or endpoint key}`; and the same under a parent —
 * `/services/{s}/routes`, `/services/{s}/plugins`, `/routes/{r}/plugins`, `/consumers/{c}/plugins`,
 * `/consumers/{c}/key-auth` (`jwt`, `basic-auth`, `acls`) — which fixes the reference to the parent.
 * Bodies are JSON (others get 415: media-type.ts). What a write does is db-mode/plan.ts; how it is
 * checked and committed, db-mode/writer.ts. A store that cannot be reached answers 503
 * GH_ERR_STORE_UNAVAILABLE (server.ts), the write not applied: it commits in one transaction or not at all.
 *
 * In DB-less mode, for reads, and for other paths this returns false: entities.ts and credentials.ts
 * answer (reads, and 405 for writes without a database). `POST /config` is refused in DB mode: the
 * database, not a posted document, holds the entities (`gatehouse config import` replaces them).
 */

import { type EntityKind, parentField } from '../db-mode/kinds.ts'
import type { WriteMethod, WriteRequest } from '../db-mode/plan.ts'
import { EntityWriteError } from '../db-mode/write-error.ts'
import { GatehouseError } from '../errors/errors.ts'
import type { AdminContext } from './context.ts'
import { type AdminRequest, readBody, sendError, sendJson } from './http.ts'

const METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export async function handleEntityWrites(
  ctx: AdminContext,
  a: AdminRequest,
  maxBody: number,
): Promise<boolean> {
  const writes = ctx.entityWrites
  if (writes === null || (!METHODS.has(a.method) && a.method !== 'OPTIONS')) return false
  if (a.path === '/config') {
    if (a.method !== 'POST') return false
    sendError(
      a.res,
      new GatehouseError(
        'GH_ERR_ADMIN_METHOD_NOT_ALLOWED',
        'POST /config loads a DB-less configuration; in DB mode write entities through the admin API or gatehouse config import',
      ),
      {},
      { allow: 'GET, HEAD' },
    )
    return true
  }
  const target = matchPath(writes.kinds, a.path)
  if (target === null) return false
  if (target === 'undecodable') {
    sendError(a.res, new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'invalid percent-encoding in the path'))
    return true
  }
  const allow =
    target.key === undefined ? 'GET, HEAD, OPTIONS, POST' : 'GET, HEAD, OPTIONS, PUT, PATCH, DELETE'
  if (a.method === 'OPTIONS') {
    a.res.writeHead(204, { allow }).end()
    return true
  }
  if ((target.key === undefined) !== (a.method === 'POST')) {
    sendError(
      a.res,
      new GatehouseError('GH_ERR_ADMIN_METHOD_NOT_ALLOWED', `${a.method} is not supported on ${a.path}`),
      {},
      { allow },
    )
    return true
  }
  const body = a.method === 'DELETE' ? null : await jsonBody(a, maxBody)
  if (body instanceof GatehouseError) {
    sendError(a.res, body)
    return true
  }
  const request: WriteRequest = { ...target, method: a.method as WriteMethod, body }
  try {
    const outcome = await writes.write(request)
    sendJson(a.res, outcome.status, outcome.body)
  } catch (err) {
    if (!(err instanceof EntityWriteError)) throw err
    sendError(a.res, err, { ...err.body })
  }
  return true
}

type Target = Pick<WriteRequest, 'kind' | 'key' | 'parent'>

/** `/{collection}[/{key}]` or `/{parent}/{pkey}/{nested}[/{key}]`; null when it is neither. */
function matchPath(kinds: readonly EntityKind[], path: string): Target | 'undecodable' | null {
  const raw = path.split('/').slice(1)
  if (raw.length < 1 || raw.length > 4) return null
  let segments: string[]
  try {
    segments = raw.map((s) => decodeURIComponent(s))
  } catch {
    return 'undecodable'
  }
  if (segments.some((s) => s === '')) return null
  const top = kinds.find((k) => k.collection === segments[0])
  if (top === undefined) return null
  if (segments.length <= 2) return { kind: top, key: segments[1] }
  const child = kinds.find((k) => k.nested === segments[2] && parentField(k, top) !== undefined)
  if (child === undefined) return null
  return { kind: child, key: segments[3], parent: { kind: top, key: segments[1]! } }
}

async function jsonBody(a: AdminRequest, maxBody: number): Promise<Record<string, unknown> | GatehouseError> {
  // A body came as JSON (media-type.ts refused any other type before it was read).
  const text = (await readBody(a.req, maxBody)).toString('utf8')
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    // The parser's message quotes the body; keep only where it failed.
    const at = /at position \d+(?: \(line \d+ column \d+\))?/.exec((err as Error).message)
    return new GatehouseError(
      'GH_ERR_ADMIN_BAD_REQUEST',
      `request body is not valid JSON${at ? ` (${at[0]})` : ''}`,
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'the body must be a JSON object')
  return value as Record<string, unknown>
}
