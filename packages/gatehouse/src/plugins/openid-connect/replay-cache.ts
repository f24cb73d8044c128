/**
 * DPoP proofs already used (RFC 9449 §11.1): a proof's `jti` is remembered, per key thumbprint, until its
 * `iat` puts it out of the accepted window, so the same proof cannot be sent twice. Behind a small
 * interface so a shared store (Redis) can replace the in-memory one and cover several gateway nodes;
 * the memory one covers this node (in a node of several workers, the primary's: memoryReplayCache), and is shared by every route and kept across configuration
 * reloads (a reload must not reopen the window). It is bounded (the oldest entry goes first); only
 * proofs that passed every other check — signed by the key the access token is bound to — get in.
 */
import { workerLink } from '../../cluster/link.ts'
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

/**
 * The cache `dpop.replay: memory` uses: this process's, or in a worker of several the primary's (one
 * round trip per proof), so a proof used on one worker is a replay on every other.
 */
export function memoryReplayCache(): ReplayCache {
  const link = workerLink()
  if (link === null) return processReplayCache
  nodeReplayCache ??= {
    firstUse: (key, until) => link.channel.call<boolean>('dpop.first-use', { key, until }),
  }
  return nodeReplayCache
}

let nodeReplayCache: ReplayCache | null = null
