/**
 * One refresh per refresh token across every node (`storage: redis`). The provider rotates refresh tokens
 * and revokes the whole grant when one is used twice (RFC 9700 §4.14.2); refresh.ts makes sure a node
 * uses each only once, but a page's burst of calls spread over two nodes would have both refresh, and the
 * session end. So the node that takes `refresh:lock:<h>` (SET NX, h = SHA-256 of the token) refreshes and
 * leaves the outcome under `refresh:done:<h>` for a minute (the new record, sealed; or the refusal); the
 * others wait for it (polling, bounded by the lock's lifetime) instead of asking the provider.
 *
 * When Redis cannot be reached the node refreshes alone, as without sharing: the store is down then
 * anyway, and a refresh is better than none.
 */
import { createHash } from 'node:crypto'
import type { RedisSettings } from '../../config/schema/redis.ts'
import type { Logger } from '../../observability/logger.ts'
import { acquireRedis, type RedisLease } from '../../redis/connections.ts'
import { ProviderError } from './provider-client.ts'
import type { Sealer } from './seal.ts'
import { fromClaims, type SessionRecord, toClaims } from './session.ts'

/** Milliseconds a refresh may take before another node tries itself (the provider timeout is at most 60 s). */
const LOCK_MS = 15_000
/** Milliseconds an outcome is kept for the nodes that did not refresh (refresh.ts REMEMBER_MS). */
const DONE_MS = 60_000
const POLL_MS = 50
const REFUSED = 'refused:'

export class SharedRefresh {
  readonly #settings: RedisSettings
  readonly #sealer: Sealer
  readonly #logger: Logger
  #lease: RedisLease | null = null
  #closed = false

  constructor(settings: RedisSettings, sealer: Sealer, logger: Logger) {
    this.#settings = settings
    this.#sealer = sealer
    this.#logger = logger
  }

  /** `refresh()`'s outcome for `token`, run by this node or taken from the node that ran it. */
  async once(token: string, refresh: () => Promise<SessionRecord>): Promise<SessionRecord> {
    const h = createHash('sha256').update(token).digest('base64url')
    const lock = `refresh:lock:${h}`
    const done = `refresh:done:${h}`
    let client: RedisLease['client']
    let mine: boolean
    try {
      client = await this.#client()
      const outcome = await this.#outcome(client, done)
      if (outcome !== null) return outcome
      mine = (await client.set(lock, '1', 'PX', LOCK_MS, 'NX')) === 'OK'
    } catch (err) {
      if (err instanceof ProviderError) throw err
      this.#logger.warn(
        { err: (err as Error)?.message ?? String(err) },
        'session refresh not coordinated across nodes (redis unavailable)',
      )
      return refresh()
    }
    if (!mine) return this.#wait(client, done, lock)
    try {
      const next = await refresh()
      const sealed = await this.#sealer.seal(
        'store',
        toClaims(next),
        Math.ceil((Date.now() + DONE_MS) / 1000),
      )
      await client.set(done, sealed, 'PX', DONE_MS).catch(() => {})
      return next
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'refused')
        await client.set(done, `${REFUSED}${err.reason}`, 'PX', DONE_MS).catch(() => {})
      throw err
    } finally {
      await client.del(lock).catch(() => {})
    }
  }

  close(): Promise<void> {
    this.#closed = true
    return this.#lease?.release() ?? Promise.resolve()
  }

  async #client(): Promise<RedisLease['client']> {
    if (this.#closed) throw new Error('the configuration of this plugin was replaced')
    this.#lease ??= acquireRedis(this.#settings, this.#logger)
    const wait = this.#lease.usable()
    if (wait !== undefined) await wait
    return this.#lease.client
  }

  /** What the node that refreshed left: the new record, a refusal (thrown), or null for nothing yet. */
  async #outcome(client: RedisLease['client'], done: string): Promise<SessionRecord | null> {
    const value = await client.get(done)
    return value === null ? null : this.#read(value)
  }

  async #read(value: string): Promise<SessionRecord> {
    if (value.startsWith(REFUSED)) throw new ProviderError('refused', value.slice(REFUSED.length))
    const claims = await this.#sealer.unseal('store', value)
    const record = claims !== null ? fromClaims(claims) : null
    if (record === null) throw new ProviderError('unavailable', 'refresh_outcome_unreadable')
    return record
  }

  /** The outcome the lock holder leaves; when it let go without one (the provider was down), unavailable. */
  async #wait(client: RedisLease['client'], done: string, lock: string): Promise<SessionRecord> {
    const deadline = Date.now() + LOCK_MS
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS))
      const [outcome, held] = await client.mget(done, lock).catch(() => [null, '1'])
      if (outcome != null) return this.#read(outcome)
      if (held == null) break
    }
    throw new ProviderError('unavailable', 'refresh_elsewhere_failed')
  }
}
