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
 * Which of these paths exist is the route table's (routes.ts, from db-mode/kinds.ts); a DB-less node
 * answers them 405 (dispatch.ts). `POST /config` is refused in DB mode (config.ts): the database, not a
 * posted document, holds the entities (`gatehouse config import` replaces them).
 */

import type { EntityKind } from '../db-mode/kinds.ts'
import type { WriteMethod, WriteRequest } from '../db-mode/plan.ts'
import { EntityWriteError } from '../db-mode/write-error.ts'
import { GatehouseError } from '../errors/errors.ts'
import { type AdminHandler, type AdminRequest, readBody, sendError, sendJson } from './http.ts'

/** Where a write's entity is in its path: its own parameter, and the parent's kind and parameter. */
export interface WriteTarget {
  readonly kind: EntityKind
  /** The parameter naming the entity (`service` in `/services/{service}`); absent for a collection. */
  readonly param?: string | undefined
  readonly parent?: { readonly kind: EntityKind; readonly param: string } | undefined
}

/**
 * `POST /{collection}`, `PUT|PATCH|DELETE /{collection}/{param}`, and the same under a parent. Routed
 * in DB mode only (dispatch.ts answers a DB-less node's 405).
 */
export function writeEntity(target: WriteTarget): AdminHandler {
  return async (ctx, a, env) => {
    const writes = ctx.entityWrites
    if (writes === null) throw new TypeError('an entity write was routed to a DB-less node')
    const body = a.method === 'DELETE' ? null : await jsonBody(a, env.maxBodySize)
    if (body instanceof GatehouseError) return sendError(a.res, body)
    const request: WriteRequest = {
      method: a.method as WriteMethod,
      kind: target.kind,
      key: target.param === undefined ? undefined : a.params[target.param],
      parent: target.parent && { kind: target.parent.kind, key: a.params[target.parent.param]! },
      body,
    }
    try {
      const outcome = await writes.write(request)
      sendJson(a.res, outcome.status, outcome.body)
    } catch (err) {
      if (!(err instanceof EntityWriteError)) throw err
      sendError(a.res, err, { ...err.body })
    }
  }
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
