import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { loadConfigObject } from '../../config/load.ts'
import { loadBundledPlugins, type PluginRegistry } from '../registry.ts'

let registry: PluginRegistry
before(async () => {
  registry = await loadBundledPlugins()
})

const load = (config: unknown) =>
  loadConfigObject(
    { _format_version: '3.0', plugins: [{ name: 'request-termination', config }] },
    'rt.yaml',
    { registry },
  ).plugins[0]!.config

const refused = (config: unknown, message: string) =>
  assert.throws(() => load(config), { name: 'ConfigError', message: `rt.yaml: plugins[0].config${message}` })

describe('request-termination config', () => {
  it("fills in Kong's defaults", () => {
    assert.deepEqual(load({}), { status_code: 503, echo: false })
  })

  it('accepts what Kong accepts: a status and message, a body with its type, an echo with a trigger', () => {
    assert.equal(
      (load({ status_code: 404, message: 'Not found' }) as { message: string }).message,
      'Not found',
    )
    load({ content_type: 'text/html', body: '<body><h1>Not found</h1>' })
    load({ body: '<body><h1>Not found</h1>' })
    load({ echo: true, trigger: 'header_name' })
    load({ message: null, body: null, content_type: null, trigger: null })
  })

  it("refuses a status outside Kong's range, and a 1xx, which is no final answer", () => {
    refused({ status_code: 'abc' }, '.status_code: expected an integer')
    refused(
      { status_code: 99 },
      '.status_code: value should be between 200 and 599 (a 1xx status is no final response)',
    )
    refused(
      { status_code: 600 },
      '.status_code: value should be between 200 and 599 (a 1xx status is no final response)',
    )
    refused(
      { status_code: 100 },
      '.status_code: value should be between 200 and 599 (a 1xx status is no final response)',
    )
  })

  it("refuses Kong's forbidden combinations with Kong's messages", () => {
    refused({ message: 'x', body: 'y' }, ': message cannot be used with content_type or body')
    refused(
      { message: 'x', content_type: 'text/plain', body: 'y' },
      ': message cannot be used with content_type or body',
    )
    refused(
      { message: 'x', content_type: 'text/plain' },
      ': message cannot be used with content_type or body',
    )
    refused({ content_type: 'text/plain' }, ': content_type requires a body')
    refused(
      { echo: true, content_type: 'text/plain', body: 'y' },
      ': echo cannot be used with content_type and body',
    )
    refused({ echo: true, body: 'y' }, ': echo cannot be used with content_type and body')
  })

  it("refuses a trigger that is no header name, in Kong's words, and a content_type that cannot be sent", () => {
    refused(
      { trigger: 'x y' },
      ".trigger: bad header name 'x y', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
    )
    refused({ trigger: '' }, '.trigger: no header name provided')
    refused(
      { content_type: 'text/html\r\nSet-Cookie: a=b', body: 'x' },
      '.content_type: contains characters not allowed in a header (control characters or line breaks)',
    )
  })
})
