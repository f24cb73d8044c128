/**
 * The counter-store contract (policy.ts), run against every implementation: this process's memory and a
 * real Redis. Each test uses keys of its own, so the suites share nothing.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { type RedisServer, redisSkipReason, startRedis } from '../../../../test/harness/redis.ts'
import { redisSettings } from '../../../config/schema/redis.ts'
import { acquireRedis, type RedisLease } from '../../../redis/connections.ts'
import { LocalCounters } from './local.ts'
import type { CounterPolicy } from './policy.ts'
import { RedisCounters } from './redis.ts'

const silent = pino({ level: 'silent' })

interface Backend {
  readonly name: string
  readonly skip: string | false
  setUp(): Promise<CounterPolicy>
  tearDown(): Promise<void>
}

let server: RedisServer | undefined
let lease: RedisLease | undefined

const backends: Backend[] = [
  {
    name: 'local',
    skip: false,
    setUp: async () => new LocalCounters(),
    tearDown: async () => {},
  },
  {
    name: 'redis',
    skip: redisSkipReason(),
    async setUp() {
      server = await startRedis()
      lease = acquireRedis(redisSettings.parse({ url: server.url, key_prefix: 'contract:' })!, silent)
      return new RedisCounters(lease)
    },
    async tearDown() {
      await lease?.release()
      await server?.stop()
    },
  },
]

/** Awaits a result that may or may not be a promise. */
const settle = async <T>(v: T | Promise<T>): Promise<T> => v

for (const backend of backends) {
  describe(`the ${backend.name} counter policy`, { skip: backend.skip }, () => {
    let policy: CounterPolicy
    before(async () => {
      policy = await backend.setUp()
    })
    after(() => backend.tearDown())

    const fresh = () => `rl:{${randomUUID()}}:`
    const later = (ms: number) => Date.now() + ms

    it('admits exactly the limit, then refuses without counting the refused requests', async () => {
      const key = `${fresh()}minute`
      const seen = []
      for (let i = 0; i < 5; i++) seen.push(await settle(policy.hit([key], [3], [later(60_000)], Date.now())))
      assert.deepEqual(
        seen.map((t) => [t.admitted, ...t.counts]),
        [
          [true, 1],
          [true, 2],
          [true, 3],
          [false, 3],
          [false, 3],
        ],
      )
    })

    it('peeks at what hit would answer without counting anything (a dry run)', async () => {
      const base = fresh()
      const keys = [`${base}second`, `${base}minute`]
      const expires = [later(1000), later(60_000)]
      assert.deepEqual(await settle(policy.peek(keys, [2, 10], expires, Date.now())), {
        admitted: true,
        counts: [1, 1],
      })
      await settle(policy.hit(keys, [2, 10], expires, Date.now()))
      for (let i = 0; i < 3; i++)
        assert.deepEqual(await settle(policy.peek(keys, [2, 10], expires, Date.now())), {
          admitted: true,
          counts: [2, 2],
        })
      await settle(policy.hit(keys, [2, 10], expires, Date.now()))
      assert.deepEqual(await settle(policy.peek(keys, [2, 10], expires, Date.now())), {
        admitted: false,
        counts: [2, 2],
      })
      // The peeks counted nothing: the full window still holds exactly the two hits.
      assert.deepEqual(await settle(policy.hit([keys[1]!], [10], [expires[1]!], Date.now())), {
        admitted: true,
        counts: [3],
      })
    })

    it("counts a request in all its windows or none: a full window refuses without touching the others'", async () => {
      const base = fresh()
      const keys = [`${base}second`, `${base}minute`]
      const expires = [later(1000), later(60_000)]
      assert.deepEqual(await settle(policy.hit(keys, [1, 10], expires, Date.now())), {
        admitted: true,
        counts: [1, 1],
      })
      assert.deepEqual(await settle(policy.hit(keys, [1, 10], expires, Date.now())), {
        admitted: false,
        counts: [1, 1],
      })
      // The minute window still has room and was not charged for the refusal.
      assert.deepEqual(await settle(policy.hit([keys[1]!], [10], [expires[1]!], Date.now())), {
        admitted: true,
        counts: [2],
      })
    })

    it('keeps each key to itself', async () => {
      const a = `${fresh()}minute`
      const b = `${fresh()}minute`
      await settle(policy.hit([a], [1], [later(60_000)], Date.now()))
      assert.equal((await settle(policy.hit([a], [1], [later(60_000)], Date.now()))).admitted, false)
      assert.equal((await settle(policy.hit([b], [1], [later(60_000)], Date.now()))).admitted, true)
    })

    it('admits exactly the limit when 50 requests arrive at once', async () => {
      const key = `${fresh()}minute`
      const results = await Promise.all(
        Array.from({ length: 50 }, () => settle(policy.hit([key], [20], [later(60_000)], Date.now()))),
      )
      assert.equal(results.filter((t) => t.admitted).length, 20)
    })
  })
}

describe('the local counter policy, bounded', () => {
  it('forgets a counter once its window has ended', () => {
    const local = new LocalCounters()
    const now = Date.now()
    local.hit(['k'], [1], [now + 1000], now)
    assert.equal(local.hit(['k'], [1], [now + 1000], now + 999).admitted, false)
    assert.deepEqual(local.hit(['k'], [1], [now + 2000], now + 1000), { admitted: true, counts: [1] })
  })

  it('holds no more than its bound, evicting the oldest counters', () => {
    const local = new LocalCounters(1000)
    const now = Date.now()
    for (let i = 0; i < 5000; i++) local.hit([`k${i}`], [5], [now + 60_000], now)
    assert.ok(local.size <= 1000, `${local.size} counters`)
    assert.equal(local.hit(['k4999'], [1], [now + 60_000], now).admitted, false, 'the newest is kept')
  })
})

describe('the redis counter policy, in Redis', { skip: redisSkipReason() }, () => {
  let redis: RedisServer
  let raw: Redis
  before(async () => {
    redis = await startRedis()
    raw = new Redis(redis.port, '127.0.0.1', { lazyConnect: true })
    await raw.connect()
  })
  after(async () => {
    raw?.disconnect()
    await redis?.stop()
  })

  it('writes prefixed keys that expire shortly after their window ends', async () => {
    const lease = acquireRedis(redisSettings.parse({ url: redis.url, key_prefix: 'gh-test:' })!, silent)
    try {
      const policy = new RedisCounters(lease)
      const now = Date.now()
      await policy.hit(
        ['rl:{p:ip}:minute:0', 'rl:{p:ip}:hour:0'],
        [5, 50],
        [now + 30_000, now + 600_000],
        now,
      )
      assert.deepEqual((await raw.keys('gh-test:*')).sort(), [
        'gh-test:rl:{p:ip}:hour:0',
        'gh-test:rl:{p:ip}:minute:0',
      ])
      const ttl = await raw.pttl('gh-test:rl:{p:ip}:minute:0')
      assert.ok(ttl > 29_000 && ttl <= 31_000, `pttl ${ttl}`)
      assert.equal(await raw.get('gh-test:rl:{p:ip}:hour:0'), '1')
    } finally {
      await lease.release()
    }
  })

  it('runs the script again after the server lost it (a restart), without an error', async () => {
    const lease = acquireRedis(redisSettings.parse({ url: redis.url, key_prefix: 'gh-flush:' })!, silent)
    try {
      const policy = new RedisCounters(lease)
      await policy.hit(['a'], [5], [Date.now() + 60_000], Date.now())
      await raw.script('FLUSH')
      assert.deepEqual(await policy.hit(['a'], [5], [Date.now() + 60_000], Date.now()), {
        admitted: true,
        counts: [2],
      })
    } finally {
      await lease.release()
    }
  })
})
