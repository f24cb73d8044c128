import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { loadConfigObject } from '../../config/load.ts'
import { loadBundledPlugins, type PluginRegistry } from '../registry.ts'

let registry: PluginRegistry
before(async () => {
  registry = await loadBundledPlugins()
})

function load(config: unknown) {
  return loadConfigObject(
    { _format_version: '3.0', plugins: [{ name: 'response-transformer', config }] },
    'kong.yaml',
    { registry },
  )
}

const at = (path: string, message: string) => `kong.yaml: plugins[0].config.${path}: ${message}`

describe('response-transformer config', () => {
  it('fills every section with empty lists for an empty config', () => {
    assert.deepEqual(load({}).plugins[0]!.config, {
      remove: { json: [], headers: [] },
      rename: { json: [], headers: [] },
      replace: { json: [], json_types: [], headers: [] },
      add: { json: [], json_types: [], headers: [] },
      append: { json: [], json_types: [], headers: [] },
    })
  })

  it("accepts a Kong export's empty json and json_types lists", () => {
    const config = load({
      remove: { json: [], headers: ['server'] },
      add: { json: [], json_types: [], headers: ['x-a:1'] },
    }).plugins[0]!.config as { add: { headers: string[] } }
    assert.deepEqual(config.add.headers, ['x-a:1'])
  })

  it('refuses JSON body transforms, naming the key, instead of ignoring them', () => {
    const message = 'JSON body transforms are not supported yet'
    assert.throws(
      () => load({ remove: { json: ['password'] }, add: { json: ['a:1'], json_types: ['number'] } }),
      {
        name: 'ConfigError',
        message: [at('remove.json', message), at('add.json', message), at('add.json_types', message)].join(
          '\n',
        ),
      },
    )
  })

  it('takes $(...) literally, as Kong does: this plugin has no templates', () => {
    const config = load({ add: { headers: ['x-a:$(not-a-template)'] } }).plugins[0]!.config as {
      add: { headers: string[] }
    }
    assert.deepEqual(config.add.headers, ['x-a:$(not-a-template)'])
  })

  it('rejects a name:value entry without a value', () => {
    assert.throws(() => load({ replace: { headers: ['cache-control'] } }), {
      message: at('replace.headers[0]', "key 'cache-control' has no value"),
    })
  })

  it('rejects an invalid header name without repeating the entry', () => {
    assert.throws(() => load({ remove: { headers: ['x a'] }, append: { headers: ['set cookie: s=1'] } }), {
      message: [
        at('remove.headers[0]', 'is not a valid header name'),
        at('append.headers[0]', 'is not a valid header name'),
      ].join('\n'),
    })
  })

  it('rejects a header value with a line break and a header that belongs to the connection', () => {
    assert.throws(() => load({ add: { headers: ['x-a:1\nset-cookie: s=1', 'Transfer-Encoding:chunked'] } }), {
      message: [
        at('add.headers[0]', "the value of 'x-a' contains characters not allowed in a header"),
        at(
          'add.headers[1]',
          "'Transfer-Encoding' is managed by the gateway per connection and cannot be set",
        ),
      ].join('\n'),
    })
  })

  it('rejects a rename without a new name', () => {
    assert.throws(() => load({ rename: { headers: ['x-a'] } }), {
      message: at('rename.headers[0]', "'x-a' has no new name (expected old:new)"),
    })
  })

  it('rejects an unknown key and names the one it resembles', () => {
    assert.throws(() => load({ add: { headers: [] }, appends: {} }), {
      message: at('appends', "unknown key (did you mean 'append'?)"),
    })
  })
})
