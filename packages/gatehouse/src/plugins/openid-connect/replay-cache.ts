/**
 * DPoP proofs already used (RFC 9449 §11.1): a proof's `jti` is remembered, per key thumbprint, until its
 * `iat` puts it out of the accepted window, so the same proof cannot be sent twice. Behind a small
 * interface so a shared store (Redis) can replace the in-memory one and cover several gateway nodes;
 * the memory one covers this process only, and is shared by every route and kept across configuration
 * reloads (a reload must not reopen the window). It is bounded (the oldest entry goes first); only
 * proofs that passed every other check — signed by the key the access token is bound to — get in.
 */
import { ExpiringCache } from '../_shared/expiring-cache.ts'

export interface ReplayCache {
  /**
   * Records `key` until `until` (Date.now() units) and says whether it is new: false when it was
   * recorded before and has not expired (a replay).
   */
  firstUse(key: string, until: number): boolean | Promise<boolean>
}

/** Most proofs remembered by one process; at 60 s per proof, room for about 1,600 proofs a second. */
export const MEMORY_REPLAY_ENTRIES = 100_000

export class MemoryReplayCache implements ReplayCache {
  readonly #seen: ExpiringCache<{ until: number }>

  constructor(maxEntries = MEMORY_REPLAY_ENTRIES) {
    this.#seen = new ExpiringCache(maxEntries, maxEntries * 512)
  }

  firstUse(key: string, until: number): boolean {
    const now = Date.now()
    if (this.#seen.get(key, now) !== undefined) return false
    this.#seen.set(key, { until }, now)
    return true
  }
}

/** The process-wide cache every openid-connect route uses. */
export const processReplayCache: ReplayCache = new MemoryReplayCache()
