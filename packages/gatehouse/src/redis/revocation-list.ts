/**
 * A node's view of the revocations: what was revoked, and when, in maps that answer the hot path's
 * questions with one lookup (issue 7: every cached token, session and minted token is checked on each
 * use, so the check must cost nothing). A later revocation of the same thing replaces the earlier one;
 * entries are dropped once their lifetime is over, swept on a timer that does not keep the process alive.
 */

/**
 * What a revocation names. `profile` and `jwks` refuse nothing by themselves: cached user-info answers
 * for the subject, or an issuer's cached keys (and the tokens verified with them), must be fetched again.
 * `key` withdraws a signing key by its `kid` (issue 10): every verifier in the gateway refuses what it
 * signed, and the node that owns it (the identity provider's store, an internal-token key ring) drops it.
 */
export type RevocationKind = 'subject' | 'session' | 'grant' | 'profile' | 'jwks' | 'key'

export const REVOCATION_KINDS: readonly RevocationKind[] = [
  'subject',
  'session',
  'grant',
  'profile',
  'jwks',
  'key',
]

export interface Revocation {
  readonly kind: RevocationKind
  /** The subject (`sub`), public session id, grant id, subject whose profile changed, issuer, or kid. */
  readonly id: string
  /** Date.now() of the revocation: what was issued at or before it is refused. */
  readonly at: number
  /** Date.now() after which it is forgotten (it must outlive whatever it refuses). */
  readonly until: number
  readonly reason: string | null
}

/** Most revocations one node keeps; beyond it the one ending soonest goes, and that is logged. */
export const MAX_REVOCATIONS = 1_000_000

export class RevocationList {
  readonly #maps: Readonly<Record<RevocationKind, Map<string, Revocation>>> = {
    subject: new Map(),
    session: new Map(),
    grant: new Map(),
    profile: new Map(),
    jwks: new Map(),
    key: new Map(),
  }
  readonly #max: number
  readonly #sweeper: NodeJS.Timeout
  #size = 0
  #keyChanges = 0

  constructor(max = MAX_REVOCATIONS, sweepEvery = 60_000) {
    this.#max = max
    this.#sweeper = setInterval(() => this.sweep(Date.now()), sweepEvery).unref()
  }

  /**
   * Takes a revocation in, unless one at least as recent is already known for the same thing or it has
   * expired. Returns whether it changed anything (so a revocation heard twice is handled once), and the
   * entry that had to make room, if any.
   */
  apply(r: Revocation, now = Date.now()): { changed: boolean; evicted: Revocation | null } {
    if (r.until <= now) return { changed: false, evicted: null }
    const map = this.#maps[r.kind]
    const known = map.get(r.id)
    if (known !== undefined && known.at >= r.at && known.until >= r.until)
      return { changed: false, evicted: null }
    const merged =
      known === undefined ? r : { ...r, at: Math.max(r.at, known.at), until: Math.max(r.until, known.until) }
    if (known === undefined) this.#size++
    else map.delete(r.id)
    map.set(r.id, Object.freeze(merged))
    if (r.kind === 'key') this.#keyChanges++
    const evicted = this.#size > this.#max ? this.#evict() : null
    return { changed: true, evicted }
  }

  /** When `id` of `kind` was last revoked (Date.now()), or undefined. */
  revokedAt(kind: RevocationKind, id: string): number | undefined {
    return this.#maps[kind].get(id)?.at
  }

  /** Whether what was issued to `subject` at `issuedAt` (Date.now() units) is revoked. */
  subjectRevoked(subject: string, issuedAt: number): boolean {
    const at = this.#maps.subject.get(subject)?.at
    return at !== undefined && issuedAt <= at
  }

  /** Whether the signing key with this `kid` was withdrawn. */
  keyRevoked(kid: string): boolean {
    return this.#maps.key.has(kid)
  }

  /**
   * A number that changes whenever a key revocation is taken in: a cache of what keys verified compares
   * it with the value it saw, one integer comparison per use.
   */
  get keyChanges(): number {
    return this.#keyChanges
  }

  sessionRevoked(sessionId: string): boolean {
    return this.#maps.session.has(sessionId)
  }

  grantRevoked(grantId: string): boolean {
    return this.#maps.grant.has(grantId)
  }

  /** Whether a user-info answer for `subject` fetched at `fetchedAt` is stale (profile changed, or revoked). */
  profileStale(subject: string, fetchedAt: number): boolean {
    const changed = this.#maps.profile.get(subject)?.at
    return (changed !== undefined && fetchedAt <= changed) || this.subjectRevoked(subject, fetchedAt)
  }

  /** Every live entry (for re-publishing after the shared store lost its data). */
  *entries(): IterableIterator<Revocation> {
    for (const kind of REVOCATION_KINDS) yield* this.#maps[kind].values()
  }

  /** The `limit` most recent revocations, newest first. */
  recent(limit: number): Revocation[] {
    return [...this.entries()].sort((a, b) => b.at - a.at).slice(0, limit)
  }

  get size(): number {
    return this.#size
  }

  sweep(now: number): void {
    for (const kind of REVOCATION_KINDS) {
      const map = this.#maps[kind]
      for (const [id, r] of map)
        if (r.until <= now) {
          map.delete(id)
          this.#size--
        }
    }
  }

  /** Stops the sweeper (tests; the process's lists live as long as the process). */
  close(): void {
    clearInterval(this.#sweeper)
  }

  #evict(): Revocation | null {
    let soonest: Revocation | null = null
    for (const r of this.entries()) if (soonest === null || r.until < soonest.until) soonest = r
    if (soonest !== null) {
      this.#maps[soonest.kind].delete(soonest.id)
      this.#size--
    }
    return soonest
  }
}
