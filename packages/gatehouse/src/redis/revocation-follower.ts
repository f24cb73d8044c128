/**
 * A holder that outlives configurations (the identity provider, the internal-token key ring) following
 * the process's revocations: a lease on those of the running configuration's `redis` section, switched
 * when a reload changes it, with one listener told of every revocation that changes this node's view.
 */
import type { RedisSettings } from '../config/schema/redis.ts'
import type { Logger } from '../observability/logger.ts'
import { connectionKey } from './options.ts'
import type { RevocationListener, Revocations } from './revocation.ts'
import { acquireRevocations, type RevocationLease } from './revocation-leases.ts'

export class RevocationFollower {
  readonly #logger: Logger
  readonly #listener: RevocationListener
  #lease: RevocationLease | null = null
  #key: string | null = null
  #unsubscribe: (() => void) | null = null

  constructor(logger: Logger, listener: RevocationListener) {
    this.#logger = logger
    this.#listener = listener
  }

  /** The revocations followed now, or null before `use`. */
  get revocations(): Revocations | null {
    return this.#lease?.revocations ?? null
  }

  /** The revocations of `settings` (the top-level `redis` section), switching when it changed. */
  use(settings: RedisSettings | null): Revocations {
    const key = settings === null ? null : connectionKey(settings)
    if (this.#lease !== null && key === this.#key) return this.#lease.revocations
    const previous = this.#lease
    this.#unsubscribe?.()
    this.#lease = acquireRevocations(settings, this.#logger)
    this.#key = key
    this.#unsubscribe = this.#lease.revocations.subscribe(this.#listener)
    void previous?.release()
    return this.#lease.revocations
  }

  async close(): Promise<void> {
    this.#unsubscribe?.()
    this.#unsubscribe = null
    await this.#lease?.release()
    this.#lease = null
  }
}
