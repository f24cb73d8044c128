/**
 * DPoP proofs already used, remembered in Redis (`dpop.replay: redis`), so a proof accepted by one node
 * is refused by every other (RFC 9449 §11.1 asks for replay detection across the resource server, not per
 * process). One `SET key 1 NX PX ttl` per proof: the write that creates the key is the first use, and
 * Redis forgets it once the proof's iat is out of the accepted window.
 *
 * When Redis cannot be reached, `faultTolerant` decides: accept the proof unchecked for replay (its
 * signature, binding, htm, htu, ath and iat were checked), or reject the call so the plugin refuses it
 * (dpop_replay_unavailable, the default). Either way it is logged, at most every few seconds; the shared
 * connection recovers by itself.
 */
import type { RedisSettings } from '../../config/schema/redis.ts'
import type { Logger } from '../../observability/logger.ts'
import { acquireRedis, HEALTH_LOG_INTERVAL, type RedisLease } from '../../redis/connections.ts'
import { LogThrottle } from '../../redis/throttle.ts'
import type { ReplayCache } from './replay-cache.ts'

export interface RedisReplayOptions {
  readonly settings: RedisSettings
  readonly faultTolerant: boolean
  readonly logger: Logger
}

export class RedisReplayCache implements ReplayCache {
  readonly #o: RedisReplayOptions
  readonly #outage = new LogThrottle(HEALTH_LOG_INTERVAL)
  #lease: RedisLease | null = null
  #closed = false

  constructor(options: RedisReplayOptions) {
    this.#o = options
  }

  firstUse(key: string, until: number): Promise<boolean> {
    return this.#remember(key, until).catch((err: unknown) => this.#unavailable(err))
  }

  /** Lets go of the connection (the configuration was replaced). */
  close(): Promise<void> {
    this.#closed = true
    return this.#lease?.release() ?? Promise.resolve()
  }

  async #remember(key: string, until: number): Promise<boolean> {
    if (this.#closed) throw new Error('the configuration of this plugin was replaced')
    // Opened by the first proof, so a configuration that never serves opens nothing.
    this.#lease ??= acquireRedis(this.#o.settings, this.#o.logger)
    const wait = this.#lease.usable()
    if (wait !== undefined) await wait
    const ttl = Math.max(1, until - Date.now())
    return (await this.#lease.client.set(`dpop:${key}`, '1', 'PX', ttl, 'NX')) === 'OK'
  }

  #unavailable(err: unknown): boolean {
    const suppressed = this.#outage.take()
    if (suppressed !== null) {
      const fields = { err: (err as Error)?.message ?? String(err), suppressed }
      if (this.#o.faultTolerant)
        this.#o.logger.warn(
          fields,
          'DPoP replay cache unavailable; accepting proofs unchecked for replay (replay_fault_tolerant)',
        )
      else this.#o.logger.error(fields, 'DPoP replay cache unavailable; refusing DPoP proofs')
    }
    if (this.#o.faultTolerant) return true
    throw err
  }
}
