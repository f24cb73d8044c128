import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { loadConfigObject } from '../../config/load.ts'
import { loadBundledPlugins, type PluginRegistry } from '../registry.ts'

let registry: PluginRegistry
before(async () => {
  registry = await loadBundledPlugins()
})

const load = (name: string, config: unknown) =>
  loadConfigObject({ _format_version: '3.0', plugins: [{ name, config }] }, 'c.yaml', { registry })
    .plugins[0]!.config

describe('correlation-id config', () => {
  it("fills in Kong's correlation-id defaults", () => {
    assert.deepEqual(load('correlation-id', {}), {
      header_name: 'Kong-Request-ID',
      generator: 'uuid#counter',
      echo_downstream: false,
    })
  })

  it('refuses an unknown generator and a header name that is no token', () => {
    assert.throws(() => load('correlation-id', { generator: 'uuid4' }), {
      message: 'c.yaml: plugins[0].config.generator: expected one of uuid, uuid#counter, tracker',
    })
    assert.throws(() => load('correlation-id', { header_name: 'Bad Header' }), {
      message: 'c.yaml: plugins[0].config.header_name: expected a header name',
    })
  })
})
