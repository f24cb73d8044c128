import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { loadConfigObject } from '../../config/load.ts'
import { loadBundledPlugins, type PluginRegistry } from '../registry.ts'

let registry: PluginRegistry
before(async () => {
  registry = await loadBundledPlugins()
})

const load = (config: unknown) =>
  loadConfigObject({ _format_version: '3.0', plugins: [{ name: 'file-log', config }] }, 'c.yaml', {
    registry,
  }).plugins[0]!.config

describe('file-log config', () => {
  it("fills in Kong's default and accepts Kong's valid file names", () => {
    assert.deepEqual(load({ path: '/tmp/log.txt' }), { path: '/tmp/log.txt', reopen: false })
    assert.deepEqual(load({ path: '/o vo.loga', reopen: true }), { path: '/o vo.loga', reopen: true })
    assert.deepEqual(load({ path: '/tmp/log.txt', custom_fields_by_lua: null }), {
      path: '/tmp/log.txt',
      reopen: false,
      custom_fields_by_lua: null,
    })
  })

  it("refuses what Kong refuses, with Kong's messages", () => {
    assert.throws(() => load({ reopen: true }), {
      message: 'c.yaml: plugins[0].config.path: required field missing',
    })
    for (const path of ['/ovo*', '/ovo`', 'test&thing', 'test%thing', 'test\\thing', ' /ovo', '/ovo  '])
      assert.throws(() => load({ path }), {
        message: 'c.yaml: plugins[0].config.path: not a valid filename',
      })
  })

  it('refuses Lua code, which it cannot run', () => {
    assert.throws(() => load({ path: '/tmp/x.log', custom_fields_by_lua: { foo: "return 'bar'" } }), {
      message: 'c.yaml: plugins[0].config.custom_fields_by_lua: Lua code is not supported; leave it unset',
    })
  })
})
