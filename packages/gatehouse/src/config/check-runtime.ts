/**
 * Builds the runtime of a loaded configuration as `start` would, without serving, and closes it: what
 * only plugins can judge (an anonymous consumer that does not exist, a key that does not fit its
 * algorithm) fails here as a ConfigError. Used by `gatehouse config check` and by every DB-mode write
 * before it is committed.
 */
import { InternalKeyRing } from '../internal-tokens/key-ring.ts'
import { createLoggers } from '../observability/logger.ts'
import { GatewayMetrics } from '../observability/metrics.ts'
import { GatewayRuntime, preparePlugins } from '../pipeline/runtime.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import { UpstreamRegistry } from '../proxy/upstreams.ts'
import type { GatewayConfig } from './model.ts'

const silent = createLoggers({ level: 'silent' }).logger
/** One for every check: each GatewayMetrics registers process-wide collectors (event loop, GC). */
let metrics: GatewayMetrics | undefined

export async function checkRuntime(config: GatewayConfig, registry: PluginRegistry): Promise<void> {
  metrics ??= new GatewayMetrics()
  await preparePlugins(config, registry)
  const upstreams = new UpstreamRegistry()
  try {
    const runtime = new GatewayRuntime(config, {
      registry,
      upstreams,
      metrics,
      logger: silent,
      internalKeys: new InternalKeyRing(config.settings.internal_tokens, silent),
    })
    await runtime.close()
  } finally {
    await upstreams.destroyAll()
  }
}
