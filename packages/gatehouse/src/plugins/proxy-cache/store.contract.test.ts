/**
 * The cache-store contract (store.ts), run against every strategy: this process's memory and a real
 * Redis. Each test uses keys of its own, so the suites share nothing. The memory store's bounds (LRU by
 * entries and bytes) follow, since only it has them.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { type RedisServer, redisSkipReason, startRedis } from '../../../test/harness/redis.ts'
import { redisSettings } from '../../config/schema/redis.ts'
import type { CachedResponse } from './entry.ts'
import { MemoryStore } from './memory-store.ts'
import { RedisCacheStore } from './redis-store.ts'
import type { CacheStore } from './store.ts'

const silent = pino({ level: 'silent' })

interface Backend {
  readonly name: string
  readonly skip: string | false
  setUp(): Promise<CacheStore>
  tearDown(): Promise<void>
}

let server: RedisServer | undefined
let redisStore: RedisCacheStore | undefined

const backends: Backend[] = [
  {
    name: 'memory',
    skip: false,
    setUp: async () => new MemoryStore({ maxEntries: 1000, maxSize: 10_000_000 }),
    tearDown: async () => {},
  },
  {
    name: 'redis',
    skip: redisSkipReason(),
    async setUp() {
      server = await startRedis()
      redisStore = new RedisCacheStore(
        redisSettings.parse({ url: server.url, key_prefix: 'contract:' })!,
        silent,
      )
      return redisStore
    },
    async tearDown() {
      await redisStore?.close()
      await server?.stop()
    },
  },
]

const key = () => randomBytes(32).toString('hex')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function entry(body: Buffer | string = '{"ok":true}'): CachedResponse {
  const headers = Object.assign(Object.create(null), {
    'content-type': 'application/json',
    link: ['<a>; rel=x', '<b>; rel=y'],
  })
  return { status: 200, headers, body: Buffer.from(body), timestamp: 1_700_000_000_123, ttl: 300 }
}

for (const backend of backends) {
  describe(`the ${backend.name} cache store`, { skip: backend.skip }, () => {
    let store: CacheStore
    before(async () => {
      store = await backend.setUp()
    })
    after(() => backend.tearDown())

    it('has nothing under a key never stored', async () => {
      assert.equal(await store.fetch(key()), null)
    })

    it('gives back what it stored: status, headers (lists too), the body byte for byte, timestamp and ttl', async () => {
      const k = key()
      const binary = Buffer.concat([randomBytes(3000), Buffer.from([0, 255, 0xc3])])
      await store.store(k, entry(binary), 60_000)
      const got = await store.fetch(k)
      assert.ok(got)
      assert.equal(got.status, 200)
      assert.deepEqual(
        { ...got.headers },
        { 'content-type': 'application/json', link: ['<a>; rel=x', '<b>; rel=y'] },
      )
      assert.ok(got.body.equals(binary))
      assert.equal(got.timestamp, 1_700_000_000_123)
      assert.equal(got.ttl, 300)
    })

    it('replaces an entry stored again under the same key', async () => {
      const k = key()
      await store.store(k, entry('first'), 60_000)
      await store.store(k, entry('second'), 60_000)
      assert.equal((await store.fetch(k))?.body.toString(), 'second')
    })

    it('forgets an entry once its storage time is over', async () => {
      const k = key()
      await store.store(k, entry(), 500)
      assert.ok(await store.fetch(k))
      await sleep(600)
      assert.equal(await store.fetch(k), null)
    })

    it('purges one entry, saying whether there was one', async () => {
      const k = key()
      const other = key()
      await store.store(k, entry(), 60_000)
      await store.store(other, entry(), 60_000)
      assert.equal(await store.purge(k), true)
      assert.equal(await store.purge(k), false)
      assert.equal(await store.fetch(k), null)
      assert.ok(await store.fetch(other))
    })

    it('flushes every entry', async () => {
      const keys = [key(), key(), key()]
      for (const k of keys) await store.store(k, entry(), 60_000)
      await store.flush()
      for (const k of keys) assert.equal(await store.fetch(k), null)
    })
  })
}

describe('the memory store bounds', () => {
  it('drops the least recently used entry beyond max_entries, a read counting as a use', () => {
    const store = new MemoryStore({ maxEntries: 3, maxSize: 10_000_000 })
    const [a, b, c, d] = [key(), key(), key(), key()]
    store.store(a, entry(), 60_000)
    store.store(b, entry(), 60_000)
    store.store(c, entry(), 60_000)
    assert.ok(store.fetch(a))
    store.store(d, entry(), 60_000)
    assert.equal(store.entries, 3)
    assert.equal(store.fetch(b), null)
    for (const k of [a, c, d]) assert.ok(store.fetch(k))
  })

  it('keeps its bytes under max_size, dropping the oldest, and never keeps an entry larger than the store', () => {
    const store = new MemoryStore({ maxEntries: 1000, maxSize: 10_000 })
    const keys = Array.from({ length: 6 }, key)
    for (const k of keys) store.store(k, entry(Buffer.alloc(3000)), 60_000)
    assert.ok(store.bytes <= 10_000)
    assert.equal(store.entries, 3)
    assert.equal(store.fetch(keys[0]!), null)
    assert.ok(store.fetch(keys[5]!))
    const huge = key()
    store.store(huge, entry(Buffer.alloc(20_000)), 60_000)
    assert.equal(store.fetch(huge), null)
    assert.equal(store.entries, 3)
  })

  it('evicts at once when a reload shrinks its bounds, and counts its bytes back to zero when emptied', () => {
    const store = new MemoryStore({ maxEntries: 10, maxSize: 10_000_000 })
    const keys = Array.from({ length: 5 }, key)
    for (const k of keys) store.store(k, entry(), 60_000)
    store.resize({ maxEntries: 2, maxSize: 10_000_000 })
    assert.equal(store.entries, 2)
    assert.ok(store.fetch(keys[4]!))
    for (const k of keys) store.purge(k)
    assert.equal(store.bytes, 0)
  })
})
