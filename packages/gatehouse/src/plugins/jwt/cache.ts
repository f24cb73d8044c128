/**
 * Tokens whose signature verified, keyed by the exact token string, so a client that sends the same
 * token again costs a map lookup instead of a signature check (HAProxy and Kong verify every time).
 * The cache never accepts a token a fresh verification would reject:
 * - only what is fixed for a given token string and configuration is remembered (decoding, the
 *   credential lookup, the algorithm and the signature); the time-dependent claim checks (exp, nbf,
 *   maximum_expiration, leeway) run again on every hit;
 * - each plugin instance has its own cache and instances are rebuilt on every configuration reload, so
 *   a changed or removed credential cannot be served from it;
 * - an entry lives until its token's `exp` (+ leeway), or 60 s for a token without a numeric `exp`, so a
 *   token that never expires is verified again at least once a minute.
 * Bounded per instance to 10,000 tokens and 16 Mi characters of tokens (tokens are at most 8192
 * characters); the oldest entry goes first. Only tokens whose signature verified get in, so only holders
 * of a credential's key can fill it.
 */
import type { JwtCredential } from './key-index.ts'

export interface VerifiedToken {
  readonly credential: JwtCredential
  readonly claims: Readonly<Record<string, unknown>>
  /** `claims_to_headers` values for this token, computed once: [header, value]. */
  readonly headers: readonly (readonly [string, string])[]
  /** Date.now() after which the entry is dropped. */
  readonly until: number
}

/** How long a token without an `exp` claim stays cached, in milliseconds. */
export const NO_EXP_TTL_MS = 60_000

export class VerifiedTokenCache {
  readonly #entries = new Map<string, VerifiedToken>()
  readonly #maxEntries: number
  readonly #maxChars: number
  #chars = 0

  constructor(maxEntries = 10_000, maxChars = 16 * 1024 * 1024) {
    this.#maxEntries = maxEntries
    this.#maxChars = maxChars
  }

  get(token: string, now: number): VerifiedToken | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined || entry.until > now) return entry
    this.#delete(token)
    return undefined
  }

  set(token: string, entry: VerifiedToken, now: number): void {
    if (entry.until <= now || token.length > this.#maxChars) return
    if (this.#entries.has(token)) this.#delete(token)
    this.#entries.set(token, entry)
    this.#chars += token.length
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries && this.#chars <= this.#maxChars) break
      this.#delete(oldest)
    }
  }

  get size(): number {
    return this.#entries.size
  }

  clear(): void {
    this.#entries.clear()
    this.#chars = 0
  }

  #delete(token: string): void {
    if (this.#entries.delete(token)) this.#chars -= token.length
  }
}

/** When a verified token's entry expires: at `exp` + leeway, or NO_EXP_TTL_MS from now without one. */
export function cacheUntil(claims: Readonly<Record<string, unknown>>, leeway: number, now: number): number {
  const exp = claims.exp
  return typeof exp === 'number' ? (exp + leeway) * 1000 : now + NO_EXP_TTL_MS
}
