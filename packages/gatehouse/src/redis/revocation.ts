/**
 * Revocation (issue 7): revoking a subject ("every token issued to this user until now"), a session, or a
 * refresh-token family (a grant) takes effect on every node within a second, caches included; a changed
 * profile makes every node's cached user-info answers for the subject stale, an invalidated JWKS
 * every node's cached keys of that issuer (and the tokens verified with them), and a withdrawn signing
 * key (`key`, by kid; issue 10) is refused by every verifier and dropped by the node that owns it.
 *
 * Every check is a lookup in this node's own view (revocation-list.ts), so it costs nothing per request
 * and keeps working while Redis is down. Where the view comes from:
 * - with the top-level `redis` section, the revocations are kept in Redis and every node's view follows
 *   them (revocation-redis.ts: published at once, polled every POLL_MS, caught up after an outage);
 * - without it, the view is this process's own: a revocation applies to the node it was made on.
 * One instance per Redis setting (or one in memory) serves the whole process, across reloads: plugins,
 * the admin API and the identity provider each hold a lease on it (revocation-leases.ts).
 */
import type { Logger } from '../observability/logger.ts'
import { type Revocation, type RevocationKind, RevocationList } from './revocation-list.ts'

export type { Revocation, RevocationKind } from './revocation-list.ts'

/** Seconds a revocation is kept unless the request says otherwise: longer than the default refresh token. */
export const DEFAULT_REVOCATION_TTL = 30 * 86_400
/** Longest `ttl`, in seconds (the session plugin's longest absolute_timeout). */
export const MAX_REVOCATION_TTL = 31_536_000
/** A key id as a verifier can meet it in a token header (`key` revocations by kid): printable, bounded. */
export const KEY_ID = /^[\x21-\x7e]{1,256}$/

export interface RevocationRequest {
  readonly kind: RevocationKind
  readonly id: string
  readonly reason?: string | null | undefined
  /** Seconds to keep it. Default: DEFAULT_REVOCATION_TTL. */
  readonly ttl?: number | undefined
}

export interface RevocationStatus {
  readonly backend: 'memory' | 'redis'
  /** False while the shared store cannot be reached (the view is then what this node last knew). */
  readonly in_sync: boolean
  /** Date.now() of the last successful synchronisation; null in memory or before the first. */
  readonly synced_at: number | null
  readonly entries: number
}

export type RevocationListener = (revocation: Revocation) => void

/** The revocation a request makes at `now`. */
export function newRevocation(request: RevocationRequest, now = Date.now()): Revocation {
  const ttl = request.ttl ?? DEFAULT_REVOCATION_TTL
  return Object.freeze({
    kind: request.kind,
    id: request.id,
    at: now,
    until: now + ttl * 1000,
    reason: request.reason ?? null,
  })
}

/**
 * What the rest of the gateway asks. The lookups are synchronous map reads; times are Date.now() units
 * (a JWT's `iat` times 1000).
 */
export abstract class Revocations {
  abstract readonly backend: 'memory' | 'redis'
  protected readonly list = new RevocationList()
  readonly #listeners = new Set<RevocationListener>()

  /** Whether what was issued to `subject` at `issuedAt` is revoked (issued at or before the revocation). */
  subjectRevoked(subject: string, issuedAt: number): boolean {
    return this.list.subjectRevoked(subject, issuedAt)
  }

  /** Whether the session with this public id (session plugin: `session_id`) is revoked. */
  sessionRevoked(sessionId: string): boolean {
    return this.list.sessionRevoked(sessionId)
  }

  /** Whether the signing key with this `kid` was withdrawn (`key` revocation, issue 10). */
  keyRevoked(kid: string): boolean {
    return this.list.keyRevoked(kid)
  }

  /** Changes whenever a key is withdrawn: caches of verifications compare it with the value they saw. */
  keyChanges(): number {
    return this.list.keyChanges
  }

  /** Whether the grant (the built-in provider's refresh-token family) is revoked. */
  grantRevoked(grantId: string): boolean {
    return this.list.grantRevoked(grantId)
  }

  /**
   * When `id` of `kind` was last revoked (Date.now() of the node that revoked it), or undefined. A cache
   * that remembers the value it saw can tell a new revocation from an old one whatever the clocks say.
   */
  revokedAt(kind: RevocationKind, id: string): number | undefined {
    return this.list.revokedAt(kind, id)
  }

  /** Whether a user-info answer for `subject` fetched at `fetchedAt` must be asked again. */
  profileStale(subject: string, fetchedAt: number): boolean {
    return this.list.profileStale(subject, fetchedAt)
  }

  /** The most recent revocations, newest first. */
  recent(limit: number): Revocation[] {
    return this.list.recent(limit)
  }

  /** Calls `listener` for every revocation that changes this node's view; returns the unsubscribe. */
  subscribe(listener: RevocationListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Undefined once the view is as complete as it can be; before the first load from the shared store
   * settles (loaded, or failed), a promise for it, so the first requests are not checked against nothing.
   */
  abstract settled(): Promise<void> | undefined

  /** Records a revocation; resolves once every node can see it. Rejects when the shared store is down. */
  abstract revoke(request: RevocationRequest): Promise<Revocation>

  abstract status(): RevocationStatus

  abstract close(): Promise<void>

  /** The revocation a request makes, timed now. */
  protected entry(request: RevocationRequest): Revocation {
    return newRevocation(request)
  }

  /** Applies a revocation to the view and tells the listeners when it changed anything. */
  protected take(r: Revocation, logger: Logger): void {
    const { changed, evicted } = this.list.apply(r)
    if (evicted !== null)
      logger.warn(
        { kind: evicted.kind, until: evicted.until },
        'too many revocations; the one ending soonest was forgotten',
      )
    if (!changed) return
    for (const listener of this.#listeners) {
      try {
        listener(r)
      } catch (err) {
        logger.error({ err }, 'a revocation listener failed')
      }
    }
  }
}

/** This process's own revocations (no `redis` section). */
export class MemoryRevocations extends Revocations {
  readonly backend = 'memory'
  readonly #logger: Logger

  constructor(logger: Logger) {
    super()
    this.#logger = logger
  }

  settled(): undefined {
    return undefined
  }

  revoke(request: RevocationRequest): Promise<Revocation> {
    const r = this.entry(request)
    this.take(r, this.#logger)
    return Promise.resolve(r)
  }

  status(): RevocationStatus {
    return { backend: 'memory', in_sync: true, synced_at: null, entries: this.list.size }
  }

  close(): Promise<void> {
    this.list.close()
    return Promise.resolve()
  }
}
