/**
 * A plugin's use of the process's shared Redis connection: opened by the first command (a configuration
 * that never needs Redis opens nothing), refused once the configuration is replaced, an outage logged at
 * most every few seconds and its end once. What a failure means is the caller's decision: `run` rejects
 * with the error.
 */
import type { RedisSettings } from '../config/schema/redis.ts'
import type { Logger } from '../observability/logger.ts'
import { acquireRedis, HEALTH_LOG_INTERVAL, type RedisLease } from './connections.ts'
import { redisClientClass } from './driver.ts'
import { LogThrottle } from './throttle.ts'

export interface OutageMessages {
  /** Logged (throttled) while commands fail. */
  readonly down: string
  readonly level: 'warn' | 'error'
  /** Logged once when a command succeeds again. */
  readonly up: string
}

export class LazyRedis {
  readonly settings: RedisSettings
  readonly #logger: Logger
  readonly #messages: OutageMessages
  readonly #outage = new LogThrottle(HEALTH_LOG_INTERVAL)
  #lease: RedisLease | null = null
  #down = false
  #closed = false

  constructor(settings: RedisSettings, logger: Logger, messages: OutageMessages) {
    this.settings = settings
    this.#logger = logger
    this.#messages = messages
    // The connection waits for the first command, but the driver is loaded now, with the configuration:
    // requiring ioredis (~55 modules) at the first command would hold that request, and every other, up.
    redisClientClass()
  }

  async run<T>(command: (client: RedisLease['client']) => Promise<T>): Promise<T> {
    try {
      if (this.#closed) throw new Error('the configuration of this plugin was replaced')
      this.#lease ??= acquireRedis(this.settings, this.#logger)
      const wait = this.#lease.usable()
      if (wait !== undefined) await wait
      const result = await command(this.#lease.client)
      if (this.#down) {
        this.#down = false
        this.#outage.reset()
        this.#logger.info(this.#messages.up)
      }
      return result
    } catch (err) {
      this.#down = true
      const suppressed = this.#outage.take()
      if (suppressed !== null)
        this.#logger[this.#messages.level](
          { err: (err as Error)?.message ?? String(err), suppressed },
          this.#messages.down,
        )
      throw err
    }
  }

  /** Lets go of the connection (the configuration was replaced, or the admin request is done). */
  close(): Promise<void> {
    this.#closed = true
    return this.#lease?.release() ?? Promise.resolve()
  }
}
