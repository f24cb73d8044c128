/**
 * The identity provider's hold on the revocations (issue 7): the view its storage adapter checks
 * (adapter.ts), for the `redis` setting of the running configuration, and the deletion from this node's
 * store of every grant revoked anywhere: with one SQLite file per node each node deletes from its own;
 * with PostgreSQL the deletes repeat harmlessly. A revoked subject's artefacts have no index by user: they
 * are refused, and deleted, when next looked up. A withdrawn signing key (`key`) is handed to the host,
 * which takes it out of the store and the provider when it is one of its own (issue 10).
 */
import type { RedisSettings } from '../config/schema/redis.ts'
import type { Logger } from '../observability/logger.ts'
import type { Revocation, Revocations } from '../redis/revocation.ts'
import { RevocationFollower } from '../redis/revocation-follower.ts'
import type { Store } from '../storage/store.ts'

export class IdentityRevocations {
  readonly #store: Store
  readonly #logger: Logger
  readonly #follower: RevocationFollower
  readonly #onKey: (kid: string) => void

  constructor(store: Store, logger: Logger, onKey: (kid: string) => void = () => {}) {
    this.#store = store
    this.#logger = logger
    this.#onKey = onKey
    this.#follower = new RevocationFollower(logger, (r) => this.#revoked(r))
  }

  /** The revocations of `settings` (the top-level `redis` section), switching when it changed. */
  use(settings: RedisSettings | null): Revocations {
    return this.#follower.use(settings)
  }

  close(): Promise<void> {
    return this.#follower.close()
  }

  #revoked(r: Revocation): void {
    if (r.kind === 'key') this.#onKey(r.id)
    if (r.kind !== 'grant') return
    this.#store.oidc.revokeByGrantId(r.id).then(
      () => this.#logger.info({ grant_id: r.id }, 'revoked grant deleted from the store'),
      (err: unknown) => this.#logger.error({ err, grant_id: r.id }, 'deleting a revoked grant failed'),
    )
  }
}
