/** `gatehouse config check FILE`: loads the file and builds the runtime as `start` would, without listening. */

import { loadConfigFile } from '../config/load.ts'
import type { GatewayConfig } from '../config/model.ts'
import { InternalKeyRing } from '../internal-tokens/key-ring.ts'
import { createLoggers } from '../observability/logger.ts'
import { GatewayMetrics } from '../observability/metrics.ts'
import { GatewayRuntime } from '../pipeline/runtime.ts'
import { loadBundledPlugins, type PluginRegistry } from '../plugins/registry.ts'
import { UpstreamRegistry } from '../proxy/upstreams.ts'
import { UsageError } from './lib/errors.ts'
import { plural } from './lib/output.ts'

export async function configCommand(args: string[]): Promise<number> {
  const [sub, file, ...extra] = args
  if (sub !== 'check')
    throw new UsageError(`unknown config command '${sub ?? ''}' (expected: config check FILE)`)
  if (!file || extra.length > 0) throw new UsageError('config check takes exactly one FILE')
  const registry = await loadBundledPlugins()
  const config = await loadConfigFile(file, { registry })
  await checkRuntime(config, registry)
  for (const notice of config.notices) process.stderr.write(`${file}: warning: ${notice}\n`)
  process.stdout.write(
    `${file}: OK (${plural(config.services.length, 'service')}, ${plural(config.routes.length, 'route')}, ` +
      `${plural(config.consumers.length, 'consumer')}, ${plural(config.plugins.length, 'plugin')})\n`,
  )
  return 0
}

/**
 * Builds the runtime as `start` would, without listening, so what only plugins can judge (an anonymous
 * consumer that does not exist, a key that does not fit its algorithm) fails `config check` too.
 */
async function checkRuntime(config: GatewayConfig, registry: PluginRegistry): Promise<void> {
  const upstreams = new UpstreamRegistry()
  try {
    const runtime = new GatewayRuntime(config, {
      registry,
      upstreams,
      metrics: new GatewayMetrics(),
      logger: createLoggers({ level: 'silent' }).logger,
      internalKeys: new InternalKeyRing(
        config.settings.internal_tokens,
        createLoggers({ level: 'silent' }).logger,
      ),
    })
    await runtime.close()
  } finally {
    await upstreams.destroyAll()
  }
}
