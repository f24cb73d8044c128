import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FILE, load, problems } from '../../../test/harness/config.ts'

const plugin = (config: string, rest = '') => `_format_version: "3.0"
${rest}plugins:
- name: rate-limiting
  config: ${config}
`

describe('rate-limiting config', () => {
  it("fills in Kong's defaults, with the top-level Redis meant when the plugin names none", () => {
    assert.deepEqual(load(plugin('{ minute: 5 }')).plugins[0]!.config, {
      minute: 5,
      limit_by: 'consumer',
      policy: 'local',
      fault_tolerant: true,
      hide_client_headers: false,
      error_code: 429,
      error_message: 'API rate limit exceeded',
      redis: {
        host: null,
        port: 6379,
        username: null,
        password: null,
        database: 0,
        connect_timeout: 2000,
        read_timeout: 2000,
        ssl: false,
        ssl_verify: false,
        server_name: null,
      },
    })
  })

  it('loads what a Kong 3.x export writes: nulls for unset fields, the flat redis_* names, sync_rate -1', () => {
    const config = load(
      plugin(`
    second: null
    minute: 20
    hour: 500
    day: null
    month: null
    year: null
    limit_by: consumer
    header_name: null
    path: null
    policy: redis
    fault_tolerant: true
    hide_client_headers: false
    error_code: 429
    error_message: API rate limit exceeded
    sync_rate: -1
    redis_host: redis.internal
    redis_port: 6380
    redis_password: null
    redis_username: null
    redis_ssl: false
    redis_ssl_verify: false
    redis_server_name: null
    redis_timeout: 2000
    redis_database: 1
    redis:
      host: null
      port: 6379
      timeout: 2000
      database: 0
      sentinel_master: null
      sentinel_nodes: null
      cluster_nodes: null`),
    ).plugins[0]!.config as { redis: Record<string, unknown>; hour: number }
    assert.equal(config.hour, 500)
    // Kong 3.6+ exports both shapes; the nested record's values win where set.
    assert.equal(config.redis.host, 'redis.internal')
    assert.equal(config.redis.port, 6379)
    assert.equal(config.redis.database, 0)
  })

  it('needs at least one limit', () => {
    assert.deepEqual(problems(plugin('{ policy: local }')), [
      `${FILE}: plugins[0].config: set at least one limit: second, minute, hour, day, month or year`,
    ])
  })

  it("refuses a longer window with a lower limit than a shorter one (Kong's rule) and limits of 0", () => {
    assert.deepEqual(problems(plugin('{ minute: 5, hour: 0 }')), [
      `${FILE}: plugins[0].config.hour: must be greater than 0`,
    ])
    assert.deepEqual(problems(plugin('{ second: 10, minute: 5 }')), [
      `${FILE}: plugins[0].config.minute: the limit for minute (5) cannot be lower than the limit for second (10)`,
    ])
  })

  it('needs header_name with limit_by header and path with limit_by path', () => {
    assert.deepEqual(problems(plugin('{ minute: 5, limit_by: header }')), [
      `${FILE}: plugins[0].config.header_name: is required with limit_by: header`,
    ])
    assert.deepEqual(problems(plugin('{ minute: 5, limit_by: path, path: relative }')), [
      `${FILE}: plugins[0].config.path: must start with "/" and contain no spaces, "?" or "#"`,
    ])
  })

  it("refuses Kong's cluster policy, saying why and what to use instead", () => {
    assert.deepEqual(problems(plugin('{ minute: 5, policy: cluster }')), [
      `${FILE}: plugins[0].config.policy: 'cluster' is not supported: Kong keeps those counters in its database, and Gatehouse has none to share; use 'redis' (exact across nodes) or 'local' (per node)`,
    ])
  })

  it('accepts sync_rate -1 only', () => {
    assert.deepEqual(problems(plugin('{ minute: 5, policy: redis, redis: { host: r }, sync_rate: 10 }')), [
      `${FILE}: plugins[0].config.sync_rate: only -1 is supported: every request is counted atomically in Redis, so there is nothing to batch`,
    ])
  })

  it('refuses Redis Sentinel and Cluster settings', () => {
    assert.deepEqual(problems(plugin('{ minute: 5, redis: { sentinel_master: mymaster } }')), [
      `${FILE}: plugins[0].config.redis.sentinel_master: Redis Sentinel is not supported; leave it unset`,
    ])
  })

  it('needs a Redis for policy redis: its own redis.host, or the top-level section', () => {
    assert.deepEqual(problems(plugin('{ minute: 5, policy: redis }')), [
      `${FILE}: plugins[0].config.policy: 'redis' needs a Redis server: add the top-level \`redis\` section (shared by every plugin), or set config.redis.host`,
    ])
    const nested = `_format_version: "3.0"
services:
- name: s
  url: http://s.internal
  routes:
  - name: r
    paths: [/r]
    plugins:
    - name: rate-limiting
      config: { minute: 5, policy: redis }
`
    assert.deepEqual(problems(nested), [
      `${FILE}: services[0].routes[0].plugins[0].config.policy: 'redis' needs a Redis server: add the top-level \`redis\` section (shared by every plugin), or set config.redis.host`,
    ])
    assert.equal(
      load(plugin('{ minute: 5, policy: redis }', 'redis: { host: redis.internal }\n')).plugins.length,
      1,
    )
    assert.equal(load(plugin('{ minute: 5, policy: redis, redis_host: redis.internal }')).plugins.length, 1)
  })
})

describe('the top-level redis section', () => {
  const withRedis = (redis: string) => `_format_version: "3.0"\nredis: ${redis}\n`

  it('is absent unless written', () => {
    assert.equal(load('_format_version: "3.0"\n').settings.redis, null)
  })

  it('takes a URL apart, credentials and database included; rediss:// means TLS', () => {
    assert.deepEqual(load(withRedis('{ url: "rediss://app:s3cret@cache.internal:6380/2" }')).settings.redis, {
      host: 'cache.internal',
      port: 6380,
      database: 2,
      username: 'app',
      password: 's3cret',
      tls: true,
      tls_verify: true,
      server_name: null,
      connect_timeout: 2000,
      command_timeout: 500,
      key_prefix: 'gatehouse:',
    })
  })

  it('reads the password through a vault reference', () => {
    const settings = load(withRedis('{ host: cache.internal, password: "{vault://env/redis-password}" }'), {
      REDIS_PASSWORD: 'from-the-env',
    }).settings.redis
    assert.equal(settings?.password, 'from-the-env')
    assert.equal(settings?.port, 6379)
  })

  it('refuses url together with host, port or database, and a URL path that is not a database', () => {
    assert.deepEqual(problems(withRedis('{ url: "redis://a:6379", host: b }')), [
      `${FILE}: redis.host: set either url or host/port/database, not both`,
    ])
    assert.deepEqual(problems(withRedis('{ url: "redis://a:6379/cache" }')), [
      `${FILE}: redis.url: the path must be a database number, e.g. /0`,
    ])
    assert.deepEqual(problems(withRedis('{ url: "http://a:6379" }')), [
      `${FILE}: redis.url: must be a redis:// or rediss:// URL`,
    ])
  })
})
