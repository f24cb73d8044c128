/**
 * The identity audit trail on the admin API (issue 14): how the admin resources record their changes
 * (`audited`: the actor is the client address the listener saw, and this node), and the trail itself:
 *   GET /identity/audit   newest first, `size` at a time (default 100, at most 1000), `next` the link to
 *                         the page after (keyset: `before=<id>`); filtered by `user` (id or username, a
 *                         removed user's too), `client`, `key` (kid) or `revocation` (what was revoked),
 *                         and `action`.
 */
import { hostname } from 'node:os'
import { GatehouseError } from '../errors/errors.ts'
import {
  type AuditAction,
  type AuditActor,
  type AuditEvent,
  type AuditTargetType,
  isAuditAction,
  recordAudit,
  targetQuery,
} from '../identity/manage/audit.ts'
import type { AdminContext } from './context.ts'
import { type AdminEnv, type AdminHandler, type AdminRequest, sendError, sendJson } from './http.ts'
import { identityFor } from './identity-requests.ts'

/** Who made a change through this request. */
export function adminActor(ctx: AdminContext, a: AdminRequest): AuditActor {
  return {
    via: 'admin-api',
    address: a.req.socket.remoteAddress ?? null,
    node: ctx.nodeId,
    host: hostname(),
  }
}

/**
 * Records a change this request made, after it succeeded: the node's log line, and a row in the identity
 * provider's store while it runs (a revocation made with the provider off is logged only).
 */
export function audited<A extends AuditAction>(
  ctx: AdminContext,
  a: AdminRequest,
  env: AdminEnv,
  event: Omit<AuditEvent<A>, 'actor'>,
): Promise<unknown> {
  const store = ctx.identity()?.store ?? null
  return recordAudit(store, env.logger, { ...event, actor: adminActor(ctx, a) } as AuditEvent<A>)
}

/** The query parameters that name a target, and the type of target each names. */
const TARGETS: Readonly<Record<string, AuditTargetType>> = {
  user: 'user',
  client: 'client',
  key: 'signing_key',
  revocation: 'revocation',
}

const bad = (message: string) => new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', message)

/** `GET /identity/audit`. */
export const listAudit: AdminHandler = async (ctx, a) => {
  const found = identityFor(ctx, a)
  if (found === null) return
  const { store } = found.host
  const query = queryOf(a.query)
  if (query instanceof GatehouseError) return sendError(a.res, query)
  const { size, filter } = query
  const target =
    filter.target === undefined
      ? undefined
      : await targetQuery(store, filter.target.type, filter.target.value)
  const events = await store.audit.list({
    ...(target !== undefined && { target }),
    ...(filter.action !== undefined && { action: filter.action }),
    ...(filter.before !== undefined && { before: filter.before }),
    limit: size + 1,
  })
  const data = events.slice(0, size)
  let next: string | null = null
  if (events.length > size) {
    const params = new URLSearchParams(a.query)
    params.set('before', String(data.at(-1)!.id))
    next = `/identity/audit?${params}`
  }
  sendJson(a.res, 200, { data, next })
}

interface AuditFilter {
  readonly target?: { readonly type: AuditTargetType; readonly value: string }
  readonly action?: AuditAction
  readonly before?: number
}

function queryOf(query: URLSearchParams): { size: number; filter: AuditFilter } | GatehouseError {
  const sizeText = query.get('size')
  const size = sizeText === null ? 100 : Number(sizeText)
  if (!Number.isInteger(size) || size < 1 || size > 1000)
    return bad('size must be an integer between 1 and 1000')
  const beforeText = query.get('before')
  const before = beforeText === null ? undefined : Number(beforeText)
  if (before !== undefined && !(/^\d{1,15}$/.test(beforeText!) && before >= 1))
    return bad(
      'before must be the id of an event (a positive integer), as the previous page’s next link has it',
    )
  const action = query.get('action') ?? undefined
  if (action !== undefined && !isAuditAction(action))
    return bad(`action '${action}' is not an audit action (docs/identity.md lists them)`)
  const named = Object.keys(TARGETS).filter((k) => query.has(k))
  if (named.length > 1) return bad(`name one of ${named.join(', ')}, not several`)
  let target: AuditFilter['target']
  if (named.length === 1) {
    const value = query.get(named[0]!)!
    if (value === '' || value.length > 1024) return bad(`${named[0]} must be 1-1024 characters`)
    target = { type: TARGETS[named[0]!]!, value }
  }
  return {
    size,
    filter: {
      ...(target !== undefined && { target }),
      ...(action !== undefined && { action }),
      ...(before !== undefined && { before }),
    },
  }
}
