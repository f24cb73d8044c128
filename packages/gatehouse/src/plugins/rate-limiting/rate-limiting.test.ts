/**
 * rate-limiting end to end, with Kong's contract (spec/03-plugins/23-rate-limiting/04-access_spec.lua;
 * rows R01–R02 of the research notes): the real process in front of a real upstream, once with each
 * policy (`local`, and `redis` with a real Redis). Windows of a second keep the tests fast; each burst
 * starts right after a second (or minute) begins, so it never straddles a window boundary.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { assertFetchedError } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../../../test/harness/redis.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

const ALICE_KEY = 'alice-key-one'
const ALICE_SECOND_KEY = 'alice-key-two'
const BOB_KEY = 'bob-key'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits, unless `room` ms of the current window of `size` ms remain, for the next one to begin. */
async function windowStart(size: number, room = size - 200): Promise<void> {
  if (Date.now() % size <= size - room) return
  await nextWindow(size)
}

/** Waits for the next window of `size` ms to begin. */
const nextWindow = (size: number) => sleep(size - (Date.now() % size) + 5)

function config(upstreamUrl: string, policy: 'local' | 'redis', redisUrl: string | null): object {
  const limited = (name: string, config: object, extra: object[] = []) => ({
    name,
    paths: [`/${name}`],
    plugins: [...extra, { name: 'rate-limiting', config: { policy, ...config } }],
  })
  const keyAuth = { name: 'key-auth', config: {} }
  return {
    _format_version: '3.0',
    proxy: { trusted_ips: ['127.0.0.1'] },
    ...(redisUrl && { redis: { url: redisUrl } }),
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          limited('minute', { minute: 6, limit_by: 'ip' }),
          limited('windows', { second: 2, minute: 10, limit_by: 'ip' }),
          limited('hidden', { second: 1, limit_by: 'ip', hide_client_headers: true }),
          limited('custom', { second: 1, limit_by: 'ip', error_code: 503, error_message: 'Slow down' }),
          limited('consumer', { second: 1, limit_by: 'consumer' }, [keyAuth]),
          limited('credential', { second: 1, limit_by: 'credential' }, [keyAuth]),
          limited('anonymous', { second: 1, limit_by: 'consumer' }),
          limited('header', { second: 1, limit_by: 'header', header_name: 'x-tenant' }),
          limited('path', { second: 1, limit_by: 'path', path: '/path/exact' }),
          limited('reload', { minute: 3, limit_by: 'ip' }),
        ],
      },
      {
        name: 'svc-a',
        url: upstreamUrl,
        routes: [
          { name: 'a1', paths: ['/a1'] },
          { name: 'a2', paths: ['/a2'] },
        ],
      },
      { name: 'svc-b', url: upstreamUrl, routes: [{ name: 'b1', paths: ['/b1'] }] },
    ],
    // Global, so it applies only to routes without a rate-limiting of their own (svc-a's and svc-b's).
    plugins: [{ name: 'rate-limiting', config: { policy, second: 1, limit_by: 'service' } }],
    consumers: [
      {
        username: 'alice',
        keyauth_credentials: [{ key: ALICE_KEY }, { key: ALICE_SECOND_KEY }],
      },
      { username: 'bob', keyauth_credentials: [{ key: BOB_KEY }] },
    ],
  }
}

const RATE_HEADERS = /^(x-ratelimit-|ratelimit-|retry-after$)/

function rateHeaders(res: Response): Record<string, string> {
  return Object.fromEntries([...res.headers].filter(([name]) => RATE_HEADERS.test(name)))
}

const redisSkip = redisSkipReason()

for (const policy of ['local', 'redis'] as const) {
  describe(`rate-limiting with policy ${policy}`, { skip: policy === 'redis' && redisSkip }, () => {
    let upstream: Upstream
    let redis: RedisServer | null = null
    let gh: GatehouseProcess
    // Client IPs of their own per policy, so the two suites never share a counter.
    const ip = (n: number) => `10.${policy === 'local' ? 1 : 2}.0.${n}`

    before(async () => {
      upstream = await startUpstream()
      if (policy === 'redis') redis = await startRedis()
      gh = await startGatehouse({ config: config(upstream.url, policy, redis?.url ?? null) })
    })
    after(async () => {
      await gh?.stop()
      await upstream?.close()
      await redis?.stop()
    })

    const get = (path: string, headers: Record<string, string> = {}) => gh.proxy(path, { headers })
    const from = (n: number, headers: Record<string, string> = {}) => ({
      'x-forwarded-for': ip(n),
      ...headers,
    })

    it('counts each request of a minute and says how many remain (R02), then refuses the 7th with 429 (R01)', async () => {
      await windowStart(60_000, 5_000)
      for (let i = 1; i <= 6; i++) {
        const res = await get('/minute', from(1))
        assert.equal(res.status, 200)
        const h = rateHeaders(res)
        assert.equal(h['x-ratelimit-limit-minute'], '6')
        assert.equal(h['x-ratelimit-remaining-minute'], String(6 - i))
        assert.equal(h['ratelimit-limit'], '6')
        assert.equal(h['ratelimit-remaining'], String(6 - i))
        const reset = Number(h['ratelimit-reset'])
        assert.ok(reset >= 1 && reset <= 60, `RateLimit-Reset ${reset}`)
        assert.equal(h['retry-after'], undefined)
      }
      const reached = upstream.requests.length
      const res = await get('/minute', from(1))
      assert.equal(res.status, 429)
      const body = await assertFetchedError(res, {
        kong: { message: 'API rate limit exceeded' },
        code: 'GH_ERR_RATE_LIMITED',
      })
      const h = rateHeaders(res)
      assert.equal(h['x-ratelimit-remaining-minute'], '0')
      assert.equal(h['ratelimit-remaining'], '0')
      assert.equal(h['retry-after'], h['ratelimit-reset'])
      assert.ok(Number(h['retry-after']) >= 1)
      assert.equal(upstream.requests.length, reached, 'the refused request did not reach the upstream')
      const line = await gh.waitForLog((l) => l.type === 'access' && l.request_id === body.request_id)
      assert.equal(line.status, 429)
      assert.equal(line.error_code, 'GH_ERR_RATE_LIMITED')
    })

    it('sends headers for every window and the RateLimit-* of the most restrictive, and charges no window for a refusal', async () => {
      await windowStart(60_000, 3_000)
      await windowStart(1000)
      const first = rateHeaders(await get('/windows', from(2)))
      assert.deepEqual(first, {
        'x-ratelimit-limit-second': '2',
        'x-ratelimit-remaining-second': '1',
        'x-ratelimit-limit-minute': '10',
        'x-ratelimit-remaining-minute': '9',
        'ratelimit-limit': '2',
        'ratelimit-remaining': '1',
        'ratelimit-reset': '1',
      })
      assert.equal((await get('/windows', from(2))).status, 200)
      const refused = await get('/windows', from(2))
      assert.equal(refused.status, 429)
      const h = rateHeaders(refused)
      assert.equal(h['x-ratelimit-remaining-second'], '0')
      assert.equal(h['x-ratelimit-remaining-minute'], '8', 'the minute was not charged for the refusal')
      assert.equal(h['retry-after'], '1')
      // The second window resets at its boundary; the minute kept counting.
      await nextWindow(1000)
      const next = await get('/windows', from(2))
      assert.equal(next.status, 200)
      assert.equal(next.headers.get('x-ratelimit-remaining-second'), '1')
      assert.equal(next.headers.get('x-ratelimit-remaining-minute'), '7')
    })

    it('sends no rate-limit headers with hide_client_headers, on a 429 neither (Retry-After included, as Kong)', async () => {
      await windowStart(1000)
      const ok = await get('/hidden', from(3))
      assert.equal(ok.status, 200)
      assert.deepEqual(rateHeaders(ok), {})
      const refused = await get('/hidden', from(3))
      assert.equal(refused.status, 429)
      assert.deepEqual(rateHeaders(refused), {})
      await assertFetchedError(refused, {
        kong: { message: 'API rate limit exceeded' },
        code: 'GH_ERR_RATE_LIMITED',
      })
    })

    it('answers with error_code and error_message when they are set', async () => {
      await windowStart(1000)
      assert.equal((await get('/custom', from(4))).status, 200)
      const refused = await get('/custom', from(4))
      assert.equal(refused.status, 503)
      await assertFetchedError(refused, { kong: { message: 'Slow down' }, code: 'GH_ERR_RATE_LIMITED' })
      assert.equal(refused.headers.get('retry-after'), '1')
    })

    it('limits each consumer on its own (limit_by consumer, through key-auth), whichever key it uses', async () => {
      await windowStart(1000)
      assert.equal((await get('/consumer', { apikey: ALICE_KEY })).status, 200)
      assert.equal((await get('/consumer', { apikey: ALICE_KEY })).status, 429)
      assert.equal((await get('/consumer', { apikey: ALICE_SECOND_KEY })).status, 429, "alice's other key")
      assert.equal((await get('/consumer', { apikey: BOB_KEY })).status, 200)
    })

    it('limits each credential on its own (limit_by credential)', async () => {
      await windowStart(1000)
      assert.equal((await get('/credential', { apikey: ALICE_KEY })).status, 200)
      assert.equal((await get('/credential', { apikey: ALICE_KEY })).status, 429)
      assert.equal((await get('/credential', { apikey: ALICE_SECOND_KEY })).status, 200)
    })

    it('counts by client IP when no consumer is identified (limit_by consumer), and by X-Forwarded-For from a trusted proxy', async () => {
      await windowStart(1000)
      assert.equal((await get('/anonymous', from(5))).status, 200)
      assert.equal((await get('/anonymous', from(5))).status, 429)
      assert.equal((await get('/anonymous', from(6))).status, 200)
    })

    it('counts by the value of a header (limit_by header), and by IP without it', async () => {
      await windowStart(1000)
      assert.equal((await get('/header', from(7, { 'x-tenant': `${policy}-t1` }))).status, 200)
      assert.equal((await get('/header', from(8, { 'x-tenant': `${policy}-t1` }))).status, 429, 'same tenant')
      assert.equal((await get('/header', from(7, { 'x-tenant': `${policy}-t2` }))).status, 200)
      assert.equal((await get('/header', from(7))).status, 200, 'no header: the IP')
      assert.equal((await get('/header', from(7))).status, 429)
    })

    it('counts requests to exactly `path` together (limit_by path), others by IP', async () => {
      await windowStart(1000)
      assert.equal((await get('/path/exact', from(9))).status, 200)
      assert.equal((await get('/path/exact', from(10))).status, 429, 'another client, the same path')
      assert.equal((await get('/path/other', from(9))).status, 200, 'another path: the IP')
      assert.equal((await get('/path/other', from(9))).status, 429)
    })

    it('keeps counting across a reload: the plugin id, and so its counters, stay the same', async () => {
      await windowStart(60_000, 5_000)
      assert.equal((await get('/reload', from(13))).status, 200)
      assert.equal((await get('/reload', from(13))).status, 200)
      const before = new Set(gh.lines)
      const loaded = gh.waitForLog((l) => !before.has(l) && l.msg === 'configuration loaded')
      gh.writeConfig(config(upstream.url, policy, redis?.url ?? null))
      gh.signal('SIGHUP')
      await loaded
      const third = await get('/reload', from(13))
      assert.equal(third.status, 200)
      assert.equal(third.headers.get('x-ratelimit-remaining-minute'), '0')
      assert.equal((await get('/reload', from(13))).status, 429)
    })

    it('counts the routes of one service together (limit_by service)', async () => {
      await windowStart(1000)
      assert.equal((await get('/a1', from(11))).status, 200)
      assert.equal((await get('/a2', from(12))).status, 429, 'another route of svc-a')
      assert.equal((await get('/b1', from(11))).status, 200, 'svc-b')
    })

    if (policy === 'redis')
      it('keeps the counters in Redis under the key prefix', async () => {
        const raw = new Redis(redis!.port, '127.0.0.1', { lazyConnect: true })
        await raw.connect()
        try {
          const keys = await raw.keys('gatehouse:rl:*')
          assert.ok(
            keys.some((k) => k.endsWith(`:minute:${Date.now() - (Date.now() % 60_000)}`)),
            keys.join(),
          )
        } finally {
          raw.disconnect()
        }
      })
  })
}

describe("rate-limiting with Kong's per-plugin Redis fields", { skip: redisSkip }, () => {
  let upstream: Upstream
  let redis: RedisServer
  let gh: GatehouseProcess
  before(async () => {
    upstream = await startUpstream()
    redis = await startRedis()
    const route = (name: string, config: object) => ({
      name,
      paths: [`/${name}`],
      plugins: [{ name: 'rate-limiting', config: { second: 1, policy: 'redis', limit_by: 'ip', ...config } }],
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('nested', { redis: { host: '127.0.0.1', port: redis.port, timeout: 500, database: 2 } }),
              route('flat', { redis_host: '127.0.0.1', redis_port: redis.port, redis_database: 3 }),
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
    await redis?.stop()
  })

  it('counts in the server and database `redis` (3.6+) or `redis_*` (3.0–3.5) name', async () => {
    await windowStart(1000)
    assert.equal((await gh.proxy('/nested')).status, 200)
    assert.equal((await gh.proxy('/nested')).status, 429)
    assert.equal((await gh.proxy('/flat')).status, 200)
    assert.equal((await gh.proxy('/flat')).status, 429)
    for (const db of [2, 3]) {
      const raw = new Redis(redis.port, '127.0.0.1', { lazyConnect: true, db })
      await raw.connect()
      try {
        assert.equal((await raw.keys('gatehouse:rl:*')).length, 1, `database ${db}`)
      } finally {
        raw.disconnect()
      }
    }
  })
})
