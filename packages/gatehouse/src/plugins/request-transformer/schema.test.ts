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
    { _format_version: '3.0', plugins: [{ name: 'request-transformer', config }] },
    'kong.yaml',
    { registry },
  )
}

const at = (path: string, message: string) => `kong.yaml: plugins[0].config.${path}: ${message}`

describe('request-transformer config', () => {
  it('fills every section with empty lists for an empty config', () => {
    const empty = { body: [], headers: [], querystring: [] }
    assert.deepEqual(load({}).plugins[0]!.config, {
      remove: empty,
      rename: empty,
      replace: empty,
      add: empty,
      append: empty,
    })
  })

  it('accepts a Kong export: empty body lists and null for the unset method and uri', () => {
    const config = load({
      http_method: null,
      remove: { body: [], headers: ['x-a'], querystring: [] },
      replace: { body: [], headers: [], querystring: [], uri: null },
    }).plugins[0]!.config as { remove: { headers: string[] } }
    assert.deepEqual(config.remove.headers, ['x-a'])
  })

  it('refuses body transforms, naming the key, instead of ignoring them', () => {
    assert.throws(() => load({ add: { body: ['name:value'] }, remove: { body: ['secret'] } }), {
      name: 'ConfigError',
      message: [
        at('remove.body', 'body transforms are not supported yet'),
        at('add.body', 'body transforms are not supported yet'),
      ].join('\n'),
    })
  })

  it('refuses $(...) templates in header and query values, rename targets and the uri', () => {
    const message = 'template values ($(...)) are not supported yet'
    assert.throws(
      () =>
        load({
          rename: { headers: ['x-a:$(headers.b)'] },
          replace: { uri: '/users/$(uri_captures.id)' },
          add: { headers: ['x-user:$(headers["x-id"])'], querystring: ['q:$(query_params.x)'] },
        }),
      {
        message: [
          at('rename.headers[0]', message),
          at('replace.uri', message),
          at('add.headers[0]', message),
          at('add.querystring[0]', message),
        ].join('\n'),
      },
    )
  })

  it('rejects a name:value entry without a value', () => {
    assert.throws(() => load({ append: { headers: ['x-a:'], querystring: ['lang'] } }), {
      message: [
        at('append.headers[0]', "key 'x-a' has no value"),
        at('append.querystring[0]', "key 'lang' has no value"),
      ].join('\n'),
    })
  })

  it('rejects an invalid header name without repeating the entry, which may hold a secret', () => {
    assert.throws(() => load({ add: { headers: ['Authorization Bearer s3cr3t:x'] } }), {
      message: at('add.headers[0]', 'is not a valid header name'),
    })
  })

  it('rejects a header value with a line break, naming only the header', () => {
    assert.throws(() => load({ replace: { headers: ['x-a:one\r\nx-b: two'] } }), {
      message: at('replace.headers[0]', "the value of 'x-a' contains characters not allowed in a header"),
    })
  })

  it('rejects setting a header that belongs to the connection', () => {
    assert.throws(
      () => load({ add: { headers: ['Connection:close'] }, rename: { headers: ['x-a:transfer-encoding'] } }),
      {
        message: [
          at(
            'rename.headers[0]',
            "'transfer-encoding' is managed by the gateway per connection and cannot be set",
          ),
          at('add.headers[0]', "'Connection' is managed by the gateway per connection and cannot be set"),
        ].join('\n'),
      },
    )
  })

  it('rejects a rename without a new name, or to an invalid one', () => {
    assert.throws(() => load({ rename: { headers: ['x-a', 'x-b:x c'], querystring: ['old:'] } }), {
      message: [
        at('rename.headers[0]', "'x-a' has no new name (expected old:new)"),
        at('rename.headers[1]', "'x-b' is renamed to an invalid header name"),
        at('rename.querystring[0]', "'old' has no new name (expected old:new)"),
      ].join('\n'),
    })
  })

  it('rejects a lower-case method and a uri that is not an absolute path', () => {
    assert.throws(() => load({ http_method: 'post', replace: { uri: 'v2/orders' } }), {
      message: [
        at('http_method', 'must be an upper-case HTTP method such as GET'),
        at('replace.uri', 'must start with "/" and contain no spaces, "?" or "#"'),
      ].join('\n'),
    })
  })

  it('rejects an unknown key in a section and names the one it resembles', () => {
    assert.throws(() => load({ add: { header: ['x-a:1'] } }), {
      message: at('add.header', "unknown key (did you mean 'headers'?)"),
    })
  })
})
