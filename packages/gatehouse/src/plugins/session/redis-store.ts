/**
 * Sessions kept in Redis (`storage: redis`), so every node serves every browser: a session started
 * through one node is used through another, and a logout anywhere ends it everywhere. Each record is
 * sealed for the `store` purpose (seal.ts: encrypted, bound to the provider and client, a key of its own
 * so it cannot pass for a session cookie) under `session:<store key>` (the keyed hash of the cookie's
 * id), with the record's lifetime as the key's expiry, so Redis forgets a session when it would end.
 *
 * The connection is the process's shared one for the top-level `redis` section, opened by the first use.
 * When Redis cannot be reached every call rejects with SessionStoreUnavailable within the command
 * timeout, logged at most every few seconds; the plugin decides what that means (on_store_failure).
 */
import type { RedisSettings } from '../../config/schema/redis.ts'
import type { Logger } from '../../observability/logger.ts'
import type { RedisLease } from '../../redis/connections.ts'
import { LazyRedis } from '../../redis/lazy-redis.ts'
import type { Sealer } from './seal.ts'
import { fromClaims, type SessionRecord, toClaims } from './session.ts'
import { type SessionStore, SessionStoreUnavailable } from './store.ts'

export class RedisSessionStore implements SessionStore {
  readonly #sealer: Sealer
  readonly #redis: LazyRedis

  constructor(settings: RedisSettings, sealer: Sealer, logger: Logger) {
    this.#sealer = sealer
    this.#redis = new LazyRedis(settings, logger, {
      down: 'session store unavailable (redis)',
      level: 'error',
      up: 'session store available again (redis)',
    })
  }

  async get(key: string): Promise<SessionRecord | undefined> {
    const value = await this.#run((c) => c.get(`session:${key}`))
    if (value === null) return undefined
    // A value this configuration's secret did not seal (another secret, or tampered with) is no session.
    const claims = await this.#sealer.unseal('store', value)
    return (claims !== null ? fromClaims(claims) : null) ?? undefined
  }

  async set(key: string, record: SessionRecord, ttl: number): Promise<void> {
    if (ttl <= 0) return this.delete(key)
    const sealed = await this.#sealer.seal('store', toClaims(record), Math.floor(Date.now() / 1000) + ttl)
    await this.#run((c) => c.set(`session:${key}`, sealed, 'PX', Math.ceil(ttl * 1000)))
  }

  async delete(key: string): Promise<void> {
    await this.#run((c) => c.del(`session:${key}`))
  }

  /** Lets go of the connection (the configuration was replaced). */
  close(): Promise<void> {
    return this.#redis.close()
  }

  #run<T>(command: (client: RedisLease['client']) => Promise<T>): Promise<T> {
    return this.#redis.run<T>(command).catch(() => {
      throw new SessionStoreUnavailable('the session store cannot be reached')
    })
  }
}
