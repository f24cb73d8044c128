/**
 * `GET /routes/{route}/plugins/effective`: the plugins that run on a route, in the order their phases run
 * them (priority, then name: pipeline/phases.ts), read from the chain the running configuration compiled
 * for it (pipeline/plugin-chain.ts), so the console shows what the proxy does rather than recomputing
 * Kong's precedence. Each step names the instance that applies to callers without a consumer-scoped one,
 * and the consumer-scoped instances that replace it once a consumer is known.
 */
import type { PluginEntity } from '../config/model.ts'
import { PRIORITY_BANDS, type PriorityBand } from '../pipeline/phases.ts'
import type { PluginInstance } from '../pipeline/plugin-chain.ts'
import { findEntity, notFound } from './entities.ts'
import { type AdminHandler, sendError, sendJson } from './http.ts'

/** What an instance is attached to: `global`, or its route, service and consumer joined by `+`. */
function scopeOf(p: PluginEntity): string {
  const parts = [p.consumer && 'consumer', p.route && 'route', p.service && 'service'].filter(Boolean)
  return parts.length === 0 ? 'global' : parts.join('+')
}

function bandOf(priority: number): PriorityBand | null {
  for (const [band, { min, max }] of Object.entries(PRIORITY_BANDS))
    if (priority >= min && priority <= max) return band as PriorityBand
  return null
}

function instanceOf(i: PluginInstance) {
  const p = i.entity
  return {
    id: p.id,
    scope: scopeOf(p),
    route: p.route ? { id: p.route.id } : null,
    service: p.service ? { id: p.service.id } : null,
    consumer: p.consumer ? { id: p.consumer.id } : null,
  }
}

export const showEffectivePlugins: AdminHandler = (ctx, a) => {
  const route = findEntity(ctx.config(), 'routes', a.params.route!)
  const compiled = route && ctx.runtime().routeContexts.find((r) => r.route.id === route.id)
  if (compiled === undefined) return sendError(a.res, notFound())
  const data = compiled.chain.steps.map((step, index) => ({
    order: index + 1,
    name: step.name,
    priority: step.priority,
    band: bandOf(step.priority),
    instance: step.instance === null ? null : instanceOf(step.instance),
    consumer_scoped: [...(step.byConsumer?.values() ?? [])].map(instanceOf),
  }))
  sendJson(a.res, 200, { route: { id: compiled.route.id, name: compiled.route.name ?? null }, data })
}
