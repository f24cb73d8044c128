/**
 * The identity provider's hold on the revocations (issue 7): the view its storage adapter checks
 * (adapter.ts), for the `redis` setting of the running configuration, and the deletion from this node's
 * store of every grant revoked anywhere: with one SQLite file per node each node deletes from its own;
 * with PostgreSQL the deletes repeat harmlessly. A revoked subject's artefacts have no index by user: they
 * are refused, and deleted, when next looked up.
 */
import type { RedisSettings } from '../config/schema/redis.ts'
import type { Logger } from '../observability/logger.ts'
import { connectionKey } from '../redis/options.ts'
import type { Revocation, Revocations } from '../redis/revocation.ts'
import { acquireRevocations, type RevocationLease } from '../redis/revocation-leases.ts'
import type { Store } from '../storage/store.ts'

export class IdentityRevocations {
  readonly #store: Store
  readonly #logger: Logger
  #lease: RevocationLease | null = null
  #settings: RedisSettings | null = null
  #unsubscribe: (() => void) | null = null

  constructor(store: Store, logger: Logger) {
    this.#store = store
    this.#logger = logger
  }

  /** The revocations of `settings` (the top-level `redis` section), switching when it changed. */
  use(settings: RedisSettings | null): Revocations {
    if (this.#lease !== null && sameSettings(this.#settings, settings)) return this.#lease.revocations
    const previous = this.#lease
    this.#unsubscribe?.()
    this.#lease = acquireRevocations(settings, this.#logger)
    this.#settings = settings
    this.#unsubscribe = this.#lease.revocations.subscribe((r) => this.#revoked(r))
    void previous?.release()
    return this.#lease.revocations
  }

  async close(): Promise<void> {
    this.#unsubscribe?.()
    this.#unsubscribe = null
    await this.#lease?.release()
    this.#lease = null
  }

  #revoked(r: Revocation): void {
    if (r.kind !== 'grant') return
    this.#store.oidc.revokeByGrantId(r.id).then(
      () => this.#logger.info({ grant_id: r.id }, 'revoked grant deleted from the store'),
      (err: unknown) => this.#logger.error({ err, grant_id: r.id }, 'deleting a revoked grant failed'),
    )
  }
}

function sameSettings(a: RedisSettings | null, b: RedisSettings | null): boolean {
  return (a === null ? null : connectionKey(a)) === (b === null ? null : connectionKey(b))
}
