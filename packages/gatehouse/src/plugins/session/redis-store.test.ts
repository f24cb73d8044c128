/**
 * The Redis session store against a real Redis: the store contract, then what Redis adds: records are
 * sealed (no token readable in Redis, and a value sealed with another secret or for a cookie finds
 * nothing), an unreachable Redis is an answer of its own (SessionStoreUnavailable), quickly, with
 * recovery when it is back; and one refresh per refresh token across nodes (shared-refresh.ts).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { type RedisServer, redisSkipReason, startRedis } from '../../../test/harness/redis.ts'
import { type RedisSettings, redisSettings } from '../../config/schema/redis.ts'
import { acquireRedis } from '../../redis/connections.ts'
import { ProviderError } from './provider-client.ts'
import { RedisSessionStore } from './redis-store.ts'
import { Sealer } from './seal.ts'
import { type SessionRecord, toClaims } from './session.ts'
import { SharedRefresh } from './shared-refresh.ts'
import { record, runSessionStoreContract } from './store.contract.test.ts'
import { type SessionStore, SessionStoreUnavailable } from './store.ts'

const SECRET = 'redis-store-test-secret-0123456789abcdef'
const silent = pino({ level: 'silent' })

describe('the Redis session store', { skip: redisSkipReason() }, () => {
  let server: RedisServer
  let settings: RedisSettings
  const sealer = new Sealer(SECRET, 'https://id.example\0shop')
  before(async () => {
    server = await startRedis()
    settings = redisSettings.parse({ url: server.url, command_timeout: 200, connect_timeout: 500 })!
  })
  after(() => server?.stop())

  const open = () => new RedisSessionStore({ ...settings, key_prefix: `s-${randomUUID()}:` }, sealer, silent)

  runSessionStoreContract(
    'redis',
    async () => open(),
    (store: SessionStore) => (store as RedisSessionStore).close(),
  )

  it('keeps records sealed: Redis holds no token, and a copy sealed otherwise finds nothing', async () => {
    const prefix = `s-${randomUUID()}:`
    const store = new RedisSessionStore({ ...settings, key_prefix: prefix }, sealer, silent)
    const lease = acquireRedis({ ...settings, key_prefix: prefix }, silent)
    try {
      await store.set('k1', record({ accessToken: 'secret-access-token' }), 60)
      const raw = (await lease.client.get('session:k1'))!
      assert.doesNotMatch(raw, /secret-access-token|alice/)
      assert.ok((await lease.client.pttl('session:k1')) > 59_000)
      // Sealed as a session cookie (same secret and client), or with another secret: not a stored record.
      const asCookie = await sealer.seal('session', toClaims(record()), Math.floor(Date.now() / 1000) + 60)
      await lease.client.set('session:k2', asCookie)
      assert.equal(await store.get('k2'), undefined)
      const other = new Sealer(`${SECRET}-other`, 'https://id.example\0shop')
      await lease.client.set('session:k3', await other.seal('store', toClaims(record()), 2e9))
      assert.equal(await store.get('k3'), undefined)
    } finally {
      await Promise.all([store.close(), lease.release()])
    }
  })

  it('answers SessionStoreUnavailable within the command timeout while Redis is down, and recovers', async () => {
    const store = open()
    try {
      await store.set('k1', record(), 60)
      await server.kill()
      const started = Date.now()
      await assert.rejects(store.get('k1'), SessionStoreUnavailable)
      await assert.rejects(store.set('k1', record(), 60), SessionStoreUnavailable)
      assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`)
      await server.start()
      const deadline = Date.now() + 5000
      for (;;) {
        try {
          await store.set('k1', record({ sub: 'back' }), 60)
          break
        } catch (err) {
          if (Date.now() > deadline) throw err
          await new Promise((r) => setTimeout(r, 50))
        }
      }
      assert.equal((await store.get('k1'))?.sub, 'back')
    } finally {
      await store.close()
    }
  })

  describe('refreshing across nodes', () => {
    const nodes = () => {
      const shared = { ...settings, key_prefix: `r-${randomUUID()}:` }
      return [new SharedRefresh(shared, sealer, silent), new SharedRefresh(shared, sealer, silent)] as const
    }

    it('asks the provider once for a refresh token two nodes refresh at once, and both get its outcome', async () => {
      const [a, b] = nodes()
      let asked = 0
      const refresh = async (): Promise<SessionRecord> => {
        asked++
        await new Promise((r) => setTimeout(r, 150))
        return record({ accessToken: 'new-access', refreshToken: 'rotated' })
      }
      try {
        const [x, y] = await Promise.all([a.once('rt-1', refresh), b.once('rt-1', refresh)])
        assert.equal(asked, 1)
        assert.deepEqual(x, y)
        assert.equal(y.refreshToken, 'rotated')
        assert.deepEqual(await b.once('rt-1', refresh), x, 'later, from the outcome left in Redis')
        assert.equal(asked, 1)
      } finally {
        await Promise.all([a.close(), b.close()])
      }
    })

    it("passes the provider's refusal on, and lets the others retry when it could not be reached", async () => {
      const [a, b] = nodes()
      const slowly = (err: ProviderError) => async (): Promise<SessionRecord> => {
        await new Promise((r) => setTimeout(r, 100))
        throw err
      }
      try {
        const refused = new ProviderError('refused', 'invalid_grant')
        const outcomes = await Promise.allSettled([
          a.once('rt-2', slowly(refused)),
          b.once('rt-2', slowly(refused)),
        ])
        for (const o of outcomes) assert.equal((o as PromiseRejectedResult).reason.reason, 'invalid_grant')
        const started = Date.now()
        const down = await Promise.allSettled([
          a.once('rt-3', slowly(new ProviderError('unavailable', 'timeout'))),
          b.once('rt-3', slowly(new ProviderError('unavailable', 'timeout'))),
        ])
        for (const o of down) assert.equal((o as PromiseRejectedResult).reason.kind, 'unavailable')
        assert.ok(Date.now() - started < 1000, 'the waiting node gave up when the lock was let go')
      } finally {
        await Promise.all([a.close(), b.close()])
      }
    })
  })
})
