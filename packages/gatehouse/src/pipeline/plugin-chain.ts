/**
 * Per-route plugin chains, compiled at load: for each plugin name, the instance that applies to the
 * route with Kong's precedence (route+service, route, service, global), plus the consumer-scoped
 * instances that override it once a consumer is known (consumer+route+service, consumer+route,
 * consumer+service, consumer). Disabled instances are left out, as Kong's plugin iterator does.
 */
import type { PluginEntity, RouteEntity } from '../config/model.ts'
import type { PluginHandler } from '../plugins/types.ts'
import { comparePlugins } from './phases.ts'

export interface PluginInstance {
  readonly entity: PluginEntity
  readonly handler: PluginHandler
  readonly priority: number
}

/** One plugin in a route's chain. */
export interface PluginStep {
  readonly name: string
  readonly priority: number
  /** The instance for callers without a consumer-scoped override; null if only consumer-scoped ones exist. */
  readonly instance: PluginInstance | null
  /** Consumer id → instance, or null when no instance is consumer-scoped. */
  readonly byConsumer: ReadonlyMap<string, PluginInstance> | null
}

export interface PluginChain {
  /** Steps sorted by priority (high first), then name. */
  readonly steps: readonly PluginStep[]
  /** Whether any step has an `access` handler (lets the pipeline skip the phase). */
  readonly hasAccess: boolean
  /** Whether any step has consumer-scoped instances (requests then record the instance each step chose). */
  readonly consumerScoped: boolean
  /**
   * The handlers (of instances without a consumer) that may read the request body (`readsBody`), asked
   * before the access phase; null when none may, which costs a request nothing.
   */
  readonly bodyReaders: readonly PluginHandler[] | null
}

export const EMPTY_CHAIN: PluginChain = Object.freeze({
  steps: Object.freeze([]),
  hasAccess: false,
  consumerScoped: false,
  bodyReaders: null,
})

/** Specificity of a non-consumer instance for a route; -1 when it does not apply. */
function baseRank(p: PluginEntity, route: RouteEntity): number {
  const serviceId = route.service?.id ?? null
  if (p.route && p.route.id !== route.id) return -1
  if (p.service && p.service.id !== serviceId) return -1
  return (p.route ? 2 : 0) + (p.service ? 1 : 0)
}

export function compilePluginChain(route: RouteEntity, instances: readonly PluginInstance[]): PluginChain {
  const byName = new Map<
    string,
    { base: PluginInstance | null; baseRank: number; consumers: Map<string, [PluginInstance, number]> }
  >()
  for (const inst of instances) {
    const p = inst.entity
    if (!p.enabled) continue
    const rank = baseRank(p, route)
    if (rank < 0) continue
    let slot = byName.get(p.name)
    if (!slot) {
      slot = { base: null, baseRank: -1, consumers: new Map() }
      byName.set(p.name, slot)
    }
    if (p.consumer) {
      const current = slot.consumers.get(p.consumer.id)
      if (!current || current[1] < rank) slot.consumers.set(p.consumer.id, [inst, rank])
    } else if (rank > slot.baseRank) {
      slot.base = inst
      slot.baseRank = rank
    }
  }
  const steps: PluginStep[] = []
  for (const [name, slot] of byName) {
    const priority = (slot.base ?? [...slot.consumers.values()][0]![0]).priority
    const byConsumer =
      slot.consumers.size > 0 ? new Map([...slot.consumers].map(([id, [inst]]) => [id, inst] as const)) : null
    steps.push({ name, priority, instance: slot.base, byConsumer })
  }
  steps.sort(comparePlugins)
  const hasAccess = steps.some(
    (s) =>
      s.instance?.handler.access !== undefined ||
      [...(s.byConsumer?.values() ?? [])].some((i) => i.handler.access),
  )
  const bodyReaders = steps.flatMap((s) =>
    s.instance?.handler.readsBody !== undefined ? [s.instance.handler] : [],
  )
  return {
    steps,
    hasAccess,
    consumerScoped: steps.some((s) => s.byConsumer !== null),
    bodyReaders: bodyReaders.length > 0 ? bodyReaders : null,
  }
}
