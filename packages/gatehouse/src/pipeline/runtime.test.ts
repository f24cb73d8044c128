import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { loadConfigObject } from '../config/load.ts'
import { ConfigError } from '../errors/errors.ts'
import { InternalKeyRing } from '../internal-tokens/key-ring.ts'
import { createLoggers } from '../observability/logger.ts'
import { GatewayMetrics } from '../observability/metrics.ts'
import { createRegistry } from '../plugins/registry.ts'
import type { GatewayPlugin } from '../plugins/types.ts'
import { UpstreamRegistry } from '../proxy/upstreams.ts'
import { GatewayRuntime } from './runtime.ts'

/** A plugin whose schema accepts any pattern but whose create() compiles it, as a real one might. */
const picky: GatewayPlugin<{ pattern: string }> = {
  name: 'picky',
  version: '1.0.0',
  priority: 801,
  band: 'transform',
  description: 'test plugin',
  schema: z.strictObject({ pattern: z.string().describe('a pattern') }),
  create: (config) => {
    const re = new RegExp(config.pattern)
    return { access: (state) => state.setUpstreamHeader('x-picky', String(re.test(state.path))) }
  },
}

describe('building a runtime from a loaded configuration', () => {
  const registry = createRegistry([picky])
  const deps = () => ({
    registry,
    upstreams: new UpstreamRegistry(),
    metrics: new GatewayMetrics(),
    logger: createLoggers({ level: 'silent' }).logger,
    internalKeys: new InternalKeyRing(
      config('^/').settings.internal_tokens,
      createLoggers({ level: 'silent' }).logger,
    ),
  })
  const config = (pattern: string) =>
    loadConfigObject(
      {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: 'http://127.0.0.1:1',
            routes: [{ name: 'api', paths: ['/api'], plugins: [{ name: 'picky', config: { pattern } }] }],
          },
        ],
      },
      'test.yaml',
      { registry },
    )

  it('turns a plugin that cannot use its config into a ConfigError naming the plugin and where it is attached', async () => {
    const d = deps()
    assert.throws(
      () => new GatewayRuntime(config('(unclosed'), d),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.issues.length === 1 &&
        err.issues[0]!.path === "plugins (picky on route 'api')" &&
        err.issues[0]!.message.startsWith(
          "plugin 'picky' cannot use this config: Invalid regular expression",
        ),
    )
    await d.upstreams.closeAll()
  })

  it('builds the route chain when every plugin accepts its config', async () => {
    const d = deps()
    const runtime = new GatewayRuntime(config('^/api'), d)
    const match = runtime.router.match({ method: 'GET', host: '', port: 80, path: '/api/x', headers: {} })
    assert.equal(match?.target.chain.steps.map((s) => s.name).join(), 'picky')
    await d.upstreams.closeAll()
  })
})
