/** `GET /` (node information), `/status`, `/status/ready` and `/metrics` (Prometheus text). */
import { hostname } from 'node:os'
import { GatehouseError } from '../errors/errors.ts'
import type { AdminContext } from './context.ts'
import { type AdminRequest, sendError, sendJson } from './http.ts'

export async function handleStatus(ctx: AdminContext, a: AdminRequest): Promise<boolean> {
  if (a.method !== 'GET' && a.method !== 'HEAD') return false
  switch (a.path) {
    case '/':
      sendJson(a.res, 200, {
        tagline: 'Welcome to Gatehouse',
        version: ctx.version,
        node_id: ctx.nodeId,
        hostname: hostname(),
        plugins: { available_on_server: ctx.registry.names(), enabled_in_cluster: enabledPlugins(ctx) },
        configuration: { database: 'off', proxy_listen: ctx.proxyAddress, admin_listen: ctx.adminAddress },
      })
      return true
    case '/status': {
      const mem = process.memoryUsage()
      sendJson(a.res, 200, {
        database: { reachable: true },
        configuration_hash: ctx.config().hash,
        server: {
          connections_active: ctx.activeConnections(),
          total_requests: ctx.totalRequests(),
          uptime_seconds: Math.round((Date.now() - ctx.startedAt) / 1000),
        },
        memory: { rss_bytes: mem.rss, heap_used_bytes: mem.heapUsed },
      })
      return true
    }
    case '/status/ready':
      if (ctx.ready()) sendJson(a.res, 200, { message: 'ready' })
      else sendError(a.res, new GatehouseError('GH_ERR_SERVER_SHUTTING_DOWN', 'not ready: shutting down'))
      return true
    case '/metrics': {
      const text = await ctx.metrics.registry.metrics()
      a.res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType, 'cache-control': 'no-store' })
      a.res.end(text)
      return true
    }
    default:
      return false
  }
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
