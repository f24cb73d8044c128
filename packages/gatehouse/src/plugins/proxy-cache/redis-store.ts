/**
 * The redis strategy (a Gatehouse addition; Kong OSS caches in memory only): entries under
 * `proxy-cache:<key>` in the top-level `redis` section's server, serialised by entry.ts, with the
 * storage TTL as the key's expiry, so every node serves what any node cached and Redis forgets it on
 * time. The connection is the process's shared one, opened by the first use. While Redis cannot be
 * reached every call rejects within the command timeout (the plugin then bypasses the cache), logged at
 * most every few seconds, and the recovery once; ioredis reconnects by itself.
 */
import type { RedisSettings } from '../../config/schema/redis.ts'
import type { Logger } from '../../observability/logger.ts'
import { LazyRedis } from '../../redis/lazy-redis.ts'
import { type CachedResponse, decodeEntry, encodeEntry } from './entry.ts'
import type { CacheStore } from './store.ts'

const NAMESPACE = 'proxy-cache:'

export class RedisCacheStore implements CacheStore {
  readonly #redis: LazyRedis

  constructor(settings: RedisSettings, logger: Logger) {
    this.#redis = new LazyRedis(settings, logger, {
      down: 'proxy-cache store unavailable (redis); requests bypass the cache',
      level: 'warn',
      up: 'proxy-cache store available again (redis)',
    })
  }

  async fetch(key: string): Promise<CachedResponse | null> {
    const bytes = await this.#redis.run((c) => c.getBuffer(NAMESPACE + key))
    return bytes === null ? null : decodeEntry(bytes)
  }

  async store(key: string, entry: CachedResponse, ttl: number): Promise<void> {
    await this.#redis.run((c) =>
      c.set(NAMESPACE + key, encodeEntry(entry), 'PX', Math.max(1, Math.ceil(ttl))),
    )
  }

  async purge(key: string): Promise<boolean> {
    return (await this.#redis.run((c) => c.unlink(NAMESPACE + key))) > 0
  }

  /** Unlinks every entry, a SCAN page at a time (never KEYS, which blocks the server). */
  async flush(): Promise<void> {
    const prefix = this.#redis.settings.key_prefix
    await this.#redis.run(async (c) => {
      let cursor = '0'
      do {
        // ioredis prefixes command keys but not SCAN patterns, nor strips the prefix from its results.
        const [next, keys] = await c.scan(cursor, 'MATCH', `${globEscape(prefix)}${NAMESPACE}*`, 'COUNT', 500)
        cursor = next
        if (keys.length > 0) await c.unlink(...keys.map((k) => k.slice(prefix.length)))
      } while (cursor !== '0')
    })
  }

  /** Lets go of the connection (the configuration was replaced, or the admin request is done). */
  close(): Promise<void> {
    return this.#redis.close()
  }
}

/** `prefix` as a literal in a Redis glob pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
