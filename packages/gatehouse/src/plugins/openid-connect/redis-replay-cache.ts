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
import { LazyRedis } from '../../redis/lazy-redis.ts'
import type { ReplayCache } from './replay-cache.ts'

export interface RedisReplayOptions {
  readonly settings: RedisSettings
  readonly faultTolerant: boolean
  readonly logger: Logger
}

export class RedisReplayCache implements ReplayCache {
  readonly #faultTolerant: boolean
  readonly #redis: LazyRedis

  constructor(options: RedisReplayOptions) {
    this.#faultTolerant = options.faultTolerant
    this.#redis = new LazyRedis(options.settings, options.logger, {
      down: options.faultTolerant
        ? 'DPoP replay cache unavailable; accepting proofs unchecked for replay (replay_fault_tolerant)'
        : 'DPoP replay cache unavailable; refusing DPoP proofs',
      level: options.faultTolerant ? 'warn' : 'error',
      up: 'DPoP replay cache available again (redis)',
    })
  }

  firstUse(key: string, until: number): Promise<boolean> {
    const ttl = Math.max(1, until - Date.now())
    return this.#redis
      .run(async (c) => (await c.set(`dpop:${key}`, '1', 'PX', ttl, 'NX')) === 'OK')
      .catch((err: unknown) => {
        if (this.#faultTolerant) return true
        throw err
      })
  }

  /** Lets go of the connection (the configuration was replaced). */
  close(): Promise<void> {
    return this.#redis.close()
  }
}
