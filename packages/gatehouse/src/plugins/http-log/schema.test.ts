import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { loadConfigObject } from '../../config/load.ts'
import { loadBundledPlugins, type PluginRegistry } from '../registry.ts'

let registry: PluginRegistry
before(async () => {
  registry = await loadBundledPlugins()
})

const load = (config: unknown) =>
  loadConfigObject({ _format_version: '3.0', plugins: [{ name: 'http-log', config }] }, 'c.yaml', {
    registry,
  }).plugins[0]!.config as Record<string, unknown>

const refused = (config: unknown, message: string) =>
  assert.throws(() => load(config), { message: `c.yaml: plugins[0].config${message}` })

describe('http-log config', () => {
  it("fills in Kong's defaults, queue included", () => {
    assert.deepEqual(load({ http_endpoint: 'http://myservice.test/path' }), {
      http_endpoint: 'http://myservice.test/path',
      method: 'POST',
      content_type: 'application/json',
      timeout: 10000,
      keepalive: 60000,
      queue: {
        max_batch_size: 1,
        max_coalescing_delay: 1,
        max_entries: 10000,
        max_retry_time: 60,
        initial_retry_delay: 0.01,
        max_retry_delay: 60,
        concurrency_limit: 1,
      },
    })
    assert.equal(load({ http_endpoint: 'http://bob:password@myservice.test/path' }).method, 'POST')
  })

  it("refuses the headers Kong refuses, with Kong's messages", () => {
    const url = 'http://myservice.test/path'
    refused(
      { http_endpoint: url, headers: { 'X-My-Header': '' } },
      '.headers.X-My-Header: length must be at least 1',
    )
    refused(
      { http_endpoint: url, headers: { Host: 'MyHost' } },
      ".headers.Host: cannot contain 'Host' header",
    )
    refused(
      { http_endpoint: url, headers: { 'coNTEnt-Length': '1' } },
      ".headers.coNTEnt-Length: cannot contain 'Content-Length' header",
    )
    refused(
      { http_endpoint: url, headers: { 'coNTEnt-Type': 'bad' } },
      ".headers.coNTEnt-Type: cannot contain 'Content-Type' header",
    )
    refused(
      { http_endpoint: 'http://hi:there@myservice.test/path', headers: { AuthoRIZATion: 'bad' } },
      ": specifying both an 'Authorization' header and user info in 'http_endpoint' is not allowed",
    )
  })

  it('refuses a missing or non-http endpoint, an unknown method and queue values out of bounds', () => {
    refused({}, '.http_endpoint: required field missing')
    refused({ http_endpoint: 'ftp://x.test/' }, '.http_endpoint: expected an http(s) URL')
    refused({ http_endpoint: 'http://x.test/', method: 'GET' }, '.method: expected one of: POST, PUT, PATCH')
    refused(
      { http_endpoint: 'http://x.test/', queue: { max_batch_size: 0 } },
      '.queue.max_batch_size: value should be between 1 and 1000000',
    )
    refused(
      { http_endpoint: 'http://x.test/', queue: { concurrency_limit: 2 } },
      '.queue.concurrency_limit: expected one of: -1, 1',
    )
  })
})
