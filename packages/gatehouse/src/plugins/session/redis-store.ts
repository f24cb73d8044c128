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
import { acquireRedis, HEALTH_LOG_INTERVAL, type RedisLease } from '../../redis/connections.ts'
import { LogThrottle } from '../../redis/throttle.ts'
import type { Sealer } from './seal.ts'
import { fromClaims, type SessionRecord, toClaims } from './session.ts'
import { type SessionStore, SessionStoreUnavailable } from './store.ts'

export class RedisSessionStore implements SessionStore {
  readonly #settings: RedisSettings
  readonly #sealer: Sealer
  readonly #logger: Logger
  readonly #outage = new LogThrottle(HEALTH_LOG_INTERVAL)
  #lease: RedisLease | null = null
  #down = false
  #closed = false

  constructor(settings: RedisSettings, sealer: Sealer, logger: Logger) {
    this.#settings = settings
    this.#sealer = sealer
    this.#logger = logger
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
    this.#closed = true
    return this.#lease?.release() ?? Promise.resolve()
  }

  async #run<T>(command: (client: RedisLease['client']) => Promise<T>): Promise<T> {
    try {
      if (this.#closed) throw new Error('the configuration of this plugin was replaced')
      this.#lease ??= acquireRedis(this.#settings, this.#logger)
      const wait = this.#lease.usable()
      if (wait !== undefined) await wait
      const result = await command(this.#lease.client)
      if (this.#down) {
        this.#down = false
        this.#outage.reset()
        this.#logger.info('session store available again (redis)')
      }
      return result
    } catch (err) {
      this.#down = true
      const suppressed = this.#outage.take()
      if (suppressed !== null)
        this.#logger.error(
          { err: (err as Error)?.message ?? String(err), suppressed },
          'session store unavailable (redis)',
        )
      throw new SessionStoreUnavailable('the session store cannot be reached')
    }
  }
}
