/**
 * The stores the proxy-cache instances of a configuration use, for the admin API: each memory
 * dictionary once (only those a loaded instance created) and the shared Redis once. A Redis store opened
 * here holds a lease on the shared connection until `close`.
 */
import type { GatewayConfig } from '../../config/model.ts'
import type { Logger } from '../../observability/logger.ts'
import { existingDictionary } from './memory-store.ts'
import { RedisCacheStore } from './redis-store.ts'
import type { ProxyCacheConfig } from './schema.ts'
import type { CacheStore } from './store.ts'

export interface ConfiguredStores {
  /** Distinct stores, memory ones first. */
  readonly stores: readonly CacheStore[]
  /** Whether any proxy-cache instance matched (`pluginId` given: whether it names one). */
  readonly found: boolean
  close(): Promise<void>
}

/** The stores of every proxy-cache instance, or only of the one with id `pluginId`. */
export function configuredStores(config: GatewayConfig, logger: Logger, pluginId?: string): ConfiguredStores {
  const instances = config.plugins.filter(
    (p) => p.name === 'proxy-cache' && (pluginId === undefined || p.id === pluginId),
  )
  const memory = new Set<CacheStore>()
  let redis: RedisCacheStore | null = null
  for (const p of instances) {
    const c = p.config as ProxyCacheConfig
    if (c.strategy === 'memory') {
      const store = existingDictionary(c.memory.dictionary_name)
      if (store !== null) memory.add(store)
    } else if (redis === null && config.settings.redis !== null)
      redis = new RedisCacheStore(config.settings.redis, logger)
  }
  return {
    stores: redis === null ? [...memory] : [...memory, redis],
    found: instances.length > 0,
    close: () => redis?.close() ?? Promise.resolve(),
  }
}
