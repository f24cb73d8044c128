/**
 * Dispatch from the route table (routes.ts): a path no template matches is 404, a method the matched
 * templates do not list is 405 with their `Allow`, else the route's handler runs with the path
 * parameters decoded. So a route cannot be served without being in the table, and the OpenAPI document
 * built from the table lists exactly what is served.
 *
 * Two templates may match one path (`/plugins/enabled` and `/plugins/{plugin}`): the route for the
 * method whose first literal segment comes earliest wins, as OpenAPI orders concrete over templated
 * paths, and `Allow` is the union of both.
 */
import { GatehouseError } from '../errors/errors.ts'
import type { AdminContext } from './context.ts'
import { methodNotAllowed } from './entities.ts'
import { type AdminRequest, sendError } from './http.ts'
import { identityOff } from './identity-requests.ts'
import { type AdminEnv, type AdminRoute, adminRoutes } from './routes.ts'

interface Compiled {
  readonly route: AdminRoute
  /** A literal segment, or null for a parameter (its name in `names`, by position). */
  readonly segments: readonly (string | null)[]
  readonly names: readonly string[]
  /** '0' for each literal and '1' for each parameter: the smaller string is the more specific route. */
  readonly rank: string
}

const ORDER = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
const WRITES: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

const compiledByRoutes = new WeakMap<readonly AdminRoute[], readonly Compiled[]>()

function compile(routes: readonly AdminRoute[]): readonly Compiled[] {
  let compiled = compiledByRoutes.get(routes)
  if (compiled) return compiled
  compiled = routes.map((route) => {
    const parts = route.path === '/' ? [] : route.path.slice(1).split('/')
    const segments = parts.map((p) => (p.startsWith('{') ? null : p))
    const names = parts.filter((p) => p.startsWith('{')).map((p) => p.slice(1, -1))
    return { route, segments, names, rank: segments.map((s) => (s === null ? '1' : '0')).join('') }
  })
  compiledByRoutes.set(routes, compiled)
  return compiled
}

function matches(c: Compiled, parts: readonly string[]): boolean {
  if (c.segments.length !== parts.length) return false
  return c.segments.every((s, i) => (s === null ? parts[i] !== '' : s === parts[i]))
}

/** Whether the route is served by this node now: DB-mode routes need entities in the database. */
function available(route: AdminRoute, ctx: AdminContext): boolean {
  return route.dbMode !== true || ctx.entityWrites !== null
}

export async function dispatch(ctx: AdminContext, a: AdminRequest, env: AdminEnv): Promise<void> {
  const parts = a.path === '/' ? [] : a.path.slice(1).split('/')
  const matched = compile(adminRoutes(ctx.registry)).filter((c) => matches(c, parts))
  if (matched.length === 0) return sendError(a.res, new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', 'Not found'))
  const served = matched.filter((c) => available(c.route, ctx))
  const method = a.method === 'HEAD' ? 'GET' : a.method
  const hit = served
    .filter((c) => c.route.method === method)
    .sort((x, y) => (x.rank < y.rank ? -1 : x.rank > y.rank ? 1 : 0))[0]
  const entity = [...matched].sort((x, y) => (x.rank < y.rank ? -1 : 1))[0]!.route.entity
  if (hit === undefined) {
    const methods = new Set<string>(served.map((c) => c.route.method))
    if (methods.has('GET')) methods.add('HEAD')
    // Kong's entity paths answer OPTIONS with what they allow (entities.ts and writes.ts always did).
    if (entity !== undefined) methods.add('OPTIONS')
    const allow = ORDER.filter((m) => methods.has(m)).join(', ')
    if (a.method === 'OPTIONS' && entity !== undefined) {
      a.res.writeHead(204, { allow }).end()
      return
    }
    // A DB-less node says why it refuses a write, in Kong's words (kong/api/endpoints.lua).
    const err =
      entity !== undefined && WRITES.has(a.method) && ctx.entityWrites === null
        ? methodNotAllowed(entity, a.method)
        : new GatehouseError('GH_ERR_ADMIN_METHOD_NOT_ALLOWED', `${a.method} is not supported on ${a.path}`)
    return sendError(a.res, err, {}, { allow })
  }
  if (hit.route.identity === true && ctx.identity() === null) return sendError(a.res, identityOff())
  const params: Record<string, string> = {}
  let p = 0
  for (let i = 0; i < hit.segments.length; i++) {
    if (hit.segments[i] !== null) continue
    try {
      params[hit.names[p++]!] = decodeURIComponent(parts[i]!)
    } catch {
      return sendError(
        a.res,
        new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'invalid percent-encoding in the path'),
      )
    }
  }
  await hit.route.handle(ctx, { ...a, params }, env)
}
