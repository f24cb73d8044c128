/**
 * `GET /upstreams/{u}/health` in Kong's shape: every target with its `health` (HEALTHY, UNHEALTHY,
 * DNS_ERROR, HEALTHCHECKS_OFF) and, under `data`, its addresses with theirs; `?balancer_health=1` gives
 * the upstream's own health instead. The state is this node's: each node checks on its own, as in Kong.
 */
import type { UpstreamEntity } from '../config/model.ts'
import type { HealthState } from '../proxy/balancer.ts'
import type { AdminContext } from './context.ts'
import { type AdminRequest, sendJson } from './http.ts'

export function sendUpstreamHealth(ctx: AdminContext, a: AdminRequest, upstream: UpstreamEntity): void {
  const config = ctx.config()
  const balancer = ctx.upstreams.find(upstream, config.targets)
  const balancerHealth = a.query.get('balancer_health')
  if (balancerHealth !== null && balancerHealth !== '0' && balancerHealth !== 'false') {
    const weights = balancer?.weights() ?? { total: 0, available: 0, healthy: false }
    let health: HealthState = weights.healthy ? 'HEALTHY' : 'UNHEALTHY'
    if (balancer === undefined || balancer.policy.off) health = 'HEALTHCHECKS_OFF'
    sendJson(a.res, 200, {
      data: {
        id: upstream.id,
        health,
        details: {
          weight: {
            total: weights.total,
            available: weights.available,
            unavailable: weights.total - weights.available,
          },
        },
      },
      next: null,
    })
    return
  }
  const targets = config.targets.filter((t) => t.upstream.id === upstream.id)
  const reports = new Map((balancer?.health() ?? []).map((r) => [r.target.id, r]))
  const data = targets.map((target) => {
    const report = reports.get(target.id)
    const addresses = report?.addresses ?? []
    const total = addresses.reduce((sum, x) => sum + x.weight, 0)
    const available = addresses.reduce((sum, x) => sum + (x.health === 'UNHEALTHY' ? 0 : x.weight), 0)
    return {
      ...target,
      health: report?.health ?? 'HEALTHCHECKS_OFF',
      data: {
        addresses,
        dns: report?.dns ?? null,
        weight: { total, available, unavailable: total - available },
      },
    }
  })
  sendJson(a.res, 200, { data, next: null, node_id: ctx.nodeId })
}
