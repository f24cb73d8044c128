/**
 * `GET /` (node information), `/status`, `/status/ready` and `/metrics` (Prometheus text). The last three
 * are also the whole of the status listener (status-server.ts). `/status/ready` is 200 while this node
 * should get traffic, else 503 naming why: shutting down (GH_ERR_SERVER_SHUTTING_DOWN), or the store or
 * Redis not answering (GH_ERR_STATUS_NOT_READY); `checks` shows each dependency either way.
 */
import { hostname } from 'node:os'
import { GatehouseError } from '../errors/errors.ts'
import type { AdminContext } from './context.ts'
import { type AdminRequest, sendError, sendJson } from './http.ts'

/** What the status listener serves (GET and HEAD). */
export const STATUS_PATHS: ReadonlySet<string> = new Set(['/status', '/status/ready', '/metrics'])

/** The status listener's paths and their handlers (GET and HEAD); the admin listener's come from routes.ts. */
export async function handleStatus(ctx: AdminContext, a: AdminRequest): Promise<boolean> {
  if (a.method !== 'GET' && a.method !== 'HEAD') return false
  const handler = STATUS_HANDLERS[a.path]
  if (handler === undefined) return false
  await handler(ctx, a)
  return true
}

/** `GET /`: which node this is, its plugins and listeners. */
export function sendNodeInfo(ctx: AdminContext, a: AdminRequest): void {
  sendJson(a.res, 200, {
    tagline: 'Welcome to Gatehouse',
    version: ctx.version,
    node_id: ctx.nodeId,
    hostname: hostname(),
    plugins: { available_on_server: ctx.registry.names(), enabled_in_cluster: enabledPlugins(ctx) },
    configuration: {
      database: 'off',
      proxy_listen: ctx.proxyAddress,
      admin_listen: ctx.adminAddress,
      status_listen: ctx.statusAddress || 'off',
    },
  })
}

export async function sendStatus(ctx: AdminContext, a: AdminRequest): Promise<void> {
  // The same checks as /status/ready (in parallel, a second each): the store, and Redis when configured.
  const [{ checks }, stats] = await Promise.all([ctx.readiness(), ctx.serverStats()])
  sendJson(a.res, 200, {
    database: { reachable: checks.store !== 'unavailable' },
    ...(checks.redis !== undefined ? { redis: { reachable: checks.redis === 'ok' } } : {}),
    configuration_hash: ctx.config().hash,
    configuration_loaded_at: new Date(ctx.configLoadedAt()).toISOString(),
    server: {
      connections_active: stats.connections_active,
      total_requests: stats.total_requests,
      uptime_seconds: Math.round((Date.now() - ctx.startedAt) / 1000),
    },
    memory: { rss_bytes: stats.rss_bytes, heap_used_bytes: stats.heap_used_bytes },
    ...(stats.workers !== undefined ? { workers: stats.workers } : {}),
  })
}

export async function sendReadiness(ctx: AdminContext, a: AdminRequest): Promise<void> {
  const { ready, draining, checks, failed } = await ctx.readiness()
  if (ready) sendJson(a.res, 200, { message: 'ready', checks })
  else if (draining)
    sendError(a.res, new GatehouseError('GH_ERR_SERVER_SHUTTING_DOWN', 'not ready: shutting down'), {
      checks,
    })
  else
    sendError(
      a.res,
      new GatehouseError(
        'GH_ERR_STATUS_NOT_READY',
        `not ready: ${failed.join(' and ')} ${failed.length === 1 ? 'does' : 'do'} not answer`,
      ),
      { checks },
    )
}

export async function sendMetrics(ctx: AdminContext, a: AdminRequest): Promise<void> {
  const text = await ctx.metrics.text()
  a.res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType, 'cache-control': 'no-store' })
  a.res.end(text)
}

const STATUS_HANDLERS: Readonly<Record<string, (ctx: AdminContext, a: AdminRequest) => Promise<void>>> = {
  '/status': sendStatus,
  '/status/ready': sendReadiness,
  '/metrics': sendMetrics,
}

function enabledPlugins(ctx: AdminContext): string[] {
  return [
    ...new Set(
      ctx
        .config()
        .plugins.filter((p) => p.enabled)
        .map((p) => p.name),
    ),
  ].sort()
}
