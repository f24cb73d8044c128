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
import { acquireRedis, HEALTH_LOG_INTERVAL, type RedisLease } from '../../redis/connections.ts'
import { LogThrottle } from '../../redis/throttle.ts'
import { type CachedResponse, decodeEntry, encodeEntry } from './entry.ts'
import type { CacheStore } from './store.ts'

const NAMESPACE = 'proxy-cache:'

export class RedisCacheStore implements CacheStore {
  readonly #settings: RedisSettings
  readonly #logger: Logger
  readonly #outage = new LogThrottle(HEALTH_LOG_INTERVAL)
  #lease: RedisLease | null = null
  #down = false
  #closed = false

  constructor(settings: RedisSettings, logger: Logger) {
    this.#settings = settings
    this.#logger = logger
  }

  async fetch(key: string): Promise<CachedResponse | null> {
    const bytes = await this.#run((c) => c.getBuffer(NAMESPACE + key))
    return bytes === null ? null : decodeEntry(bytes)
  }

  async store(key: string, entry: CachedResponse, ttl: number): Promise<void> {
    await this.#run((c) => c.set(NAMESPACE + key, encodeEntry(entry), 'PX', Math.max(1, Math.ceil(ttl))))
  }

  async purge(key: string): Promise<boolean> {
    return (await this.#run((c) => c.unlink(NAMESPACE + key))) > 0
  }

  /** Unlinks every entry, a SCAN page at a time (never KEYS, which blocks the server). */
  async flush(): Promise<void> {
    const prefix = this.#settings.key_prefix
    await this.#run(async (c) => {
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
        this.#logger.info('proxy-cache store available again (redis)')
      }
      return result
    } catch (err) {
      this.#down = true
      const suppressed = this.#outage.take()
      if (suppressed !== null)
        this.#logger.warn(
          { err: (err as Error)?.message ?? String(err), suppressed },
          'proxy-cache store unavailable (redis); requests bypass the cache',
        )
      throw err
    }
  }
}

/** `prefix` as a literal in a Redis glob pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
