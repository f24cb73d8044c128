/**
 * The process's Redis connections: one ioredis client per distinct setting, shared by every plugin (and
 * every configuration, across reloads) that asks for the same server, opened at first use and closed
 * when the last holder lets go (a reload's old runtime, or shutdown).
 *
 * A request never waits on Redis longer than the command timeout: while the server is unreachable,
 * commands fail at once (no offline queue) and ioredis keeps reconnecting in the background, so the
 * gateway recovers by itself. Only the very first connection attempt is waited for, so the first
 * requests after a start or reload are counted rather than failed. Outages are logged once, then at
 * most every HEALTH_LOG_INTERVAL, and the recovery once. ioredis itself is loaded with the first
 * connection the process opens (driver.ts).
 */
import type { Redis } from 'ioredis'
import type { RedisSettings } from '../config/schema/redis.ts'
import type { Logger } from '../observability/logger.ts'
import { redisClientClass } from './driver.ts'
import { clientOptions, connectionKey, describeTarget } from './options.ts'
import { LogThrottle } from './throttle.ts'

/** Milliseconds between two log lines about the same outage. */
export const HEALTH_LOG_INTERVAL = 10_000

/** One holder's use of a shared connection. */
export interface RedisLease {
  /** The shared client: keys are prefixed with `key_prefix` by ioredis itself. */
  readonly client: Redis
  /** The server, for logs (`redis://host:port/db`, no credentials). */
  readonly target: string
  /**
   * Undefined when a command can be sent now (the fast path allocates nothing); otherwise a promise that
   * resolves once the first connection is up, or rejects within the command timeout, or at once while
   * the server is known to be unreachable.
   */
  usable(): Promise<void> | undefined
  /** Lets go of the connection; the last holder closes it. Idempotent. */
  release(): Promise<void>
}

class SharedConnection {
  readonly key: string
  readonly client: Redis
  readonly target: string
  refs = 0
  readonly #settings: RedisSettings
  readonly #logger: Logger
  readonly #throttle = new LogThrottle(HEALTH_LOG_INTERVAL)
  /** Settles with the first connection attempt. */
  readonly #first: Promise<void>
  #firstSettled = false
  #downSince: number | null = null
  #closing = false

  constructor(key: string, settings: RedisSettings, logger: Logger) {
    this.key = key
    this.#settings = settings
    this.target = describeTarget(settings)
    this.#logger = logger.child({ component: 'redis', redis: this.target })
    const Client = redisClientClass()
    this.client = new Client(clientOptions(settings))
    this.client.on('ready', () => this.#ready())
    this.client.on('error', (err: Error) => this.#down('redis connection failed; retrying', err))
    this.client.on('close', () => {
      if (!this.#closing && this.#downSince === null) this.#down('redis connection lost; reconnecting', null)
    })
    this.#first = new Promise<void>((resolve, reject) => {
      this.client.once('ready', resolve)
      this.client.once('error', reject)
      this.client.once('end', () => reject(new Error('redis connection closed')))
    }).finally(() => {
      this.#firstSettled = true
    })
    // Failures are reported through the events above; the promise only tells waiting requests.
    this.#first.catch(() => {})
    this.client.connect().catch(() => {})
  }

  usable(): Promise<void> | undefined {
    const status = this.client.status
    if (status === 'ready') return undefined
    if (this.#firstSettled || this.#closing)
      return Promise.reject(new Error(`redis is not connected (${status})`))
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(
        () => reject(new Error('redis: no connection within the command timeout')),
        this.#settings.command_timeout,
      ).unref()
    })
    return Promise.race([this.#first, timeout])
  }

  async close(): Promise<void> {
    this.#closing = true
    if (this.client.status === 'ready') {
      try {
        await this.client.quit()
        return
      } catch {
        // fall through: drop the socket
      }
    }
    this.client.disconnect()
  }

  #ready(): void {
    if (this.#downSince !== null)
      this.#logger.info({ down_ms: Date.now() - this.#downSince }, 'redis connection restored')
    else this.#logger.info('redis connected')
    this.#downSince = null
    this.#throttle.reset()
  }

  #down(message: string, err: Error | null): void {
    if (this.#closing) return
    this.#downSince ??= Date.now()
    const suppressed = this.#throttle.take()
    if (suppressed === null) return
    this.#logger.warn({ ...(err && { err: err.message }), suppressed }, message)
  }
}

const connections = new Map<string, SharedConnection>()

/**
 * A lease on the shared connection for `settings`, opening it on first use. `logger` is used when this
 * call opens it.
 *
 * @example
 * ```ts
 * const lease = acquireRedis(config.settings.redis, logger)
 * await lease.usable()
 * await lease.client.incr('hits')
 * await lease.release()
 * ```
 */
export function acquireRedis(settings: RedisSettings, logger: Logger): RedisLease {
  const key = connectionKey(settings)
  let shared = connections.get(key)
  if (!shared) {
    shared = new SharedConnection(key, settings, logger)
    connections.set(key, shared)
  }
  shared.refs++
  const conn = shared
  let released = false
  return {
    client: conn.client,
    target: conn.target,
    usable: () => conn.usable(),
    release: async () => {
      if (released) return
      released = true
      if (--conn.refs > 0) return
      if (connections.get(conn.key) === conn) connections.delete(conn.key)
      await conn.close()
    },
  }
}

/** How many shared connections are open (for tests). */
export function openRedisConnections(): number {
  return connections.size
}
