import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FILE, load, problems, registry } from '../../../test/harness/config.ts'
import { checkRuntime } from '../../config/check-runtime.ts'

const plugin = (config: string, rest = '') => `_format_version: "3.0"
${rest}plugins:
- name: proxy-cache
  config: ${config}
`

describe('proxy-cache config', () => {
  it("fills in Kong's defaults and Gatehouse's bounds", () => {
    assert.deepEqual(load(plugin('{}')).plugins[0]!.config, {
      response_code: [200, 301, 404],
      request_method: ['GET', 'HEAD'],
      content_type: ['text/plain', 'application/json'],
      cache_ttl: 300,
      strategy: 'memory',
      cache_control: false,
      ignore_uri_case: false,
      storage_ttl: null,
      vary_query_params: null,
      vary_headers: [],
      cache_set_cookie: false,
      credential_headers: ['Authorization', 'Cookie'],
      max_body_size: 1_048_576,
      memory: { dictionary_name: 'kong_db_cache', max_entries: 10_000, max_size: 67_108_864 },
      response_headers: { age: true, 'X-Cache-Status': true, 'X-Cache-Key': true },
    })
  })

  it('loads what a Kong 3.x export writes, nulls for unset fields included', () => {
    const config = load(
      plugin(`
    response_code: [200]
    request_method: [GET]
    content_type: [application/json; charset=utf-8]
    cache_ttl: 30
    strategy: memory
    cache_control: true
    ignore_uri_case: true
    storage_ttl: null
    memory: { dictionary_name: kong_db_cache }
    vary_query_params: null
    vary_headers: [Accept-Language]
    response_headers: { age: false, X-Cache-Status: true, X-Cache-Key: false }`),
    ).plugins[0]!.config as Record<string, unknown>
    assert.equal(config.cache_ttl, 30)
    assert.deepEqual(config.vary_headers, ['Accept-Language'])
    assert.deepEqual(config.response_headers, { age: false, 'X-Cache-Status': true, 'X-Cache-Key': false })
    assert.deepEqual(config.memory, {
      dictionary_name: 'kong_db_cache',
      max_entries: 10_000,
      max_size: 67_108_864,
    })
  })

  it('names what is wrong: a method Kong does not cache, a content type that is not one, a TTL of 0', () => {
    assert.deepEqual(problems(plugin('{ request_method: [DELETE] }')), [
      `${FILE}: plugins[0].config.request_method[0]: expected one of HEAD, GET, POST, PATCH, PUT`,
    ])
    assert.deepEqual(problems(plugin('{ content_type: [json] }')), [
      `${FILE}: plugins[0].config.content_type[0]: expected a media type: type/subtype, optionally with ; name=value parameters`,
    ])
    assert.equal(
      problems(plugin('{ cache_ttl: 0 }'))[0]?.startsWith(`${FILE}: plugins[0].config.cache_ttl:`),
      true,
    )
    assert.deepEqual(problems(plugin('{ vary_headers: ["Accept Language"] }')), [
      `${FILE}: plugins[0].config.vary_headers[0]: expected a header name`,
    ])
  })

  it('refuses strategy redis without the top-level redis section, and takes it with one', async () => {
    assert.deepEqual(problems(plugin('{ strategy: redis }')), [
      `${FILE}: plugins[0].config.strategy: 'redis' needs a Redis server: add the top-level \`redis\` section (shared by every plugin)`,
    ])
    await checkRuntime(load(plugin('{ strategy: redis }', 'redis: { host: redis.internal }\n')), registry)
  })
})
