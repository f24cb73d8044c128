/**
 * proxy-cache with the redis strategy end to end: two real gateway processes sharing a real Redis in
 * front of one upstream. What one node caches is a hit on the other, a purge through one is seen by
 * both, and while Redis is down requests go to the upstream uncached (Bypass), then caching resumes
 * without a restart.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../../../test/harness/redis.ts'
import { echoHandler, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function config(upstreamUrl: string, redisUrl: string): object {
  return {
    _format_version: '3.0',
    redis: { url: redisUrl, command_timeout: 500, connect_timeout: 500 },
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          {
            name: 'cache',
            paths: ['/cache'],
            plugins: [{ name: 'proxy-cache', config: { strategy: 'redis' } }],
          },
        ],
      },
    ],
  }
}

describe('proxy-cache (redis)', { skip: redisSkipReason() }, () => {
  let upstream: Upstream
  let redis: RedisServer
  let a: GatehouseProcess
  let b: GatehouseProcess

  before(async () => {
    upstream = await startUpstream(echoHandler)
    redis = await startRedis()
    ;[a, b] = await Promise.all([
      startGatehouse({ config: config(upstream.url, redis.url) }),
      startGatehouse({ config: config(upstream.url, redis.url) }),
    ])
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await upstream?.close()
    await redis?.stop()
  })

  const status = async (node: GatehouseProcess, path: string) => {
    const res = await node.proxy(path)
    await res.arrayBuffer()
    return {
      status: res.status,
      cache: res.headers.get('x-cache-status'),
      key: res.headers.get('x-cache-key'),
    }
  }
  const hitsOf = (url: string) => upstream.requests.filter((r) => r.url === url).length
  /** Waits for an entry to be in Redis: a node stores it after the response went out, asynchronously. */
  const stored = async (key: string | null) => {
    const deadline = Date.now() + 2000
    while ((await a.admin(`/proxy-cache/${key}`)).status !== 200)
      if (Date.now() > deadline) assert.fail(`entry ${key} was never stored`)
      else await sleep(10)
  }

  it('serves on node B what node A cached, the upstream asked once', async () => {
    const first = await a.proxy('/cache/shared')
    assert.equal(first.headers.get('x-cache-status'), 'Miss')
    const body = await first.text()
    await stored(first.headers.get('x-cache-key'))
    const onB = await b.proxy('/cache/shared')
    assert.equal(onB.headers.get('x-cache-status'), 'Hit')
    assert.equal(onB.headers.get('x-cache-key'), first.headers.get('x-cache-key'))
    assert.equal(await onB.text(), body)
    assert.equal((await status(a, '/cache/shared')).cache, 'Hit')
    assert.equal(hitsOf('/shared'), 1)
  })

  it('purges for every node through one node’s admin API', async () => {
    const { key } = await status(a, '/cache/purged')
    await stored(key)
    assert.equal((await status(b, '/cache/purged')).cache, 'Hit')
    const shown = await b.admin(`/proxy-cache/${key}`)
    assert.equal(shown.status, 200)
    assert.equal(((await shown.json()) as { status: number }).status, 200)
    assert.equal((await a.admin(`/proxy-cache/${key}`, { method: 'DELETE' })).status, 204)
    assert.equal((await status(b, '/cache/purged')).cache, 'Miss')
    await stored(key)
    assert.equal((await status(a, '/cache/purged')).cache, 'Hit')
    assert.equal((await b.admin('/proxy-cache', { method: 'DELETE' })).status, 204)
    assert.equal((await status(a, '/cache/purged')).cache, 'Miss')
  })

  it('bypasses the cache while Redis is down (logged once, not per request), and caches again once it is back', async () => {
    await redis.kill()
    for (let i = 0; i < 3; i++) {
      const res = await status(a, '/cache/outage')
      assert.equal(res.status, 200)
      assert.equal(res.cache, 'Bypass')
    }
    assert.equal(hitsOf('/outage'), 3)
    await a.waitForLog((l) => l.msg === 'proxy-cache store unavailable (redis); requests bypass the cache')
    assert.equal(
      a.lines.filter((l) => l.msg === 'proxy-cache store unavailable (redis); requests bypass the cache')
        .length,
      1,
    )
    await redis.start()
    // Each node reconnects on its own backoff; until then it keeps bypassing.
    const reconnected = async (node: GatehouseProcess) => {
      const deadline = Date.now() + 10_000
      let seen = await status(node, '/cache/outage')
      while (seen.cache === 'Bypass' && Date.now() < deadline) {
        await sleep(100)
        seen = await status(node, '/cache/outage')
      }
      return seen
    }
    const onA = await reconnected(a)
    assert.equal(onA.cache, 'Miss')
    await stored(onA.key)
    assert.equal((await reconnected(b)).cache, 'Hit')
  })
})
