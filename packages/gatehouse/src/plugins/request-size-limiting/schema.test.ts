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

describe('request-size-limiting config', () => {
  it("fills in Kong's request-size-limiting defaults and refuses an unknown unit", () => {
    assert.deepEqual(load('request-size-limiting', {}), {
      allowed_payload_size: 128,
      size_unit: 'megabytes',
      require_content_length: false,
    })
    assert.throws(() => load('request-size-limiting', { size_unit: 'gigabytes' }), {
      message: 'c.yaml: plugins[0].config.size_unit: expected one of: megabytes, kilobytes, bytes',
    })
    assert.throws(() => load('request-size-limiting', { allowed_payload_size: 1.5 }), {
      message: 'c.yaml: plugins[0].config.allowed_payload_size: expected an integer',
    })
  })
})
