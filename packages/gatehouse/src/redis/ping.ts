/**
 * PING on the shared connection of the configuration's `redis` section, for the readiness check. The
 * lease is kept while the settings stay the same (a probe every few seconds should not open and close a
 * connection each time) and moved when a reload changes them. While the server is down the connection
 * refuses at once (no offline queue), so a probe never waits on reconnection.
 */
import type { RedisSettings } from '../config/schema/redis.ts'
import type { Logger } from '../observability/logger.ts'
import { acquireRedis, type RedisLease } from './connections.ts'
import { connectionKey } from './options.ts'

export class RedisPing {
  readonly #logger: Logger
  #lease: RedisLease | null = null
  #key = ''

  constructor(logger: Logger) {
    this.#logger = logger
  }

  async ping(settings: RedisSettings): Promise<void> {
    const key = connectionKey(settings)
    if (this.#lease === null || key !== this.#key) {
      const previous = this.#lease
      this.#lease = acquireRedis(settings, this.#logger)
      this.#key = key
      await previous?.release()
    }
    const wait = this.#lease.usable()
    if (wait !== undefined) await wait
    const answer = await this.#lease.client.ping()
    if (answer !== 'PONG') throw new Error('redis answered PING with something else')
  }

  async close(): Promise<void> {
    const lease = this.#lease
    this.#lease = null
    await lease?.release()
  }
}
