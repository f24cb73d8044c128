/**
 * The contract of proxy-cache's strategies (Kong's strategies/*.lua: fetch, store, purge, flush), run by
 * store.contract.test.ts against each. The memory store answers synchronously, so a hit costs no
 * promise; the Redis store returns promises that reject when Redis cannot be reached.
 */
import type { CachedResponse } from './entry.ts'

export interface CacheStore {
  /** The entry under `key`, or null (never stored, expired, or written by another format version). */
  fetch(key: string): CachedResponse | null | Promise<CachedResponse | null>
  /** Stores `entry` under `key` for `ttl` milliseconds, replacing what was there. */
  store(key: string, entry: CachedResponse, ttl: number): void | Promise<void>
  /** Removes one entry; true when there was one. */
  purge(key: string): boolean | Promise<boolean>
  /** Removes every entry. */
  flush(): void | Promise<void>
}
