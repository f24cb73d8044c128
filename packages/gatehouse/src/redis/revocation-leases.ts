/**
 * The process's revocations, one instance per Redis setting (or one in memory), shared by every holder
 * across configuration reloads: plugins take a lease when their configuration loads and let go when it is
 * replaced, the admin API and the CLI for one call, the identity provider while it runs.
 */
import type { RedisSettings } from '../config/schema/redis.ts'
import type { Logger } from '../observability/logger.ts'
import { connectionKey } from './options.ts'
import { MemoryRevocations, type Revocations } from './revocation.ts'
import { RedisRevocations } from './revocation-redis.ts'

/** One holder's use of the process's revocations. */
export interface RevocationLease {
  readonly revocations: Revocations
  /** Lets go; the last holder of a Redis-backed instance closes it. Idempotent. */
  release(): Promise<void>
}

let memory: Revocations | null = null

/**
 * Puts `instance` in place of this process's own revocations: in a node of several workers, the
 * primary's and each worker's are linked (cluster/revocations.ts). Called once, before any lease.
 */
export function useMemoryRevocations(instance: Revocations): void {
  memory = instance
}
const shared = new Map<string, { instance: RedisRevocations; refs: number }>()

/**
 * A lease on the revocations of `settings` (the top-level `redis` section; null: this process's own),
 * starting them on first use. The in-memory instance lives as long as the process (its revocations
 * exist nowhere else); a Redis-backed one closes with its last holder.
 *
 * @example
 * ```ts
 * const lease = acquireRevocations(config.settings.redis, logger)
 * if (lease.revocations.subjectRevoked(claims.sub, claims.iat * 1000)) refuse()
 * await lease.release() // when the configuration is replaced
 * ```
 */
export function acquireRevocations(settings: RedisSettings | null, logger: Logger): RevocationLease {
  const log = logger.child({ component: 'revocations' })
  if (settings === null) {
    memory ??= new MemoryRevocations(log)
    return { revocations: memory, release: () => Promise.resolve() }
  }
  const key = connectionKey(settings)
  let held = shared.get(key)
  if (held === undefined) {
    held = { instance: new RedisRevocations(settings, log), refs: 0 }
    shared.set(key, held)
  }
  held.refs++
  const entry = held
  let released = false
  return {
    revocations: entry.instance,
    release: async () => {
      if (released) return
      released = true
      if (--entry.refs > 0) return
      if (shared.get(key) === entry) shared.delete(key)
      await entry.instance.close()
    },
  }
}
