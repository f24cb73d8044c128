/**
 * Tokens whose signature verified, keyed by the exact token string, so a client that sends the same
 * token again costs a map lookup instead of a signature check (HAProxy and Kong verify every time).
 * Used by the jwt and openid-connect plugins, each of which makes sure the cache never accepts a token a
 * fresh verification would reject:
 * - only what is fixed for a given token string and configuration is remembered (decoding, the key
 *   lookup, the algorithm and the signature); what depends on the time either runs again on every hit
 *   (jwt) or ends the entry (`until`, openid-connect);
 * - each plugin instance has its own cache and instances are rebuilt on every configuration reload, so
 *   a changed or removed credential cannot be served from it.
 * Bounded per instance to 10,000 tokens and 16 Mi characters of tokens (tokens are at most 8192
 * characters); the oldest entry goes first. Only tokens whose signature verified get in, so only holders
 * of a signing key can fill it.
 */

/** What a cache keeps for a token: anything, with the time (Date.now()) after which it is dropped. */
export interface CachedVerification {
  readonly until: number
}

export class VerifiedTokenCache<T extends CachedVerification> {
  readonly #entries = new Map<string, T>()
  readonly #maxEntries: number
  readonly #maxChars: number
  #chars = 0

  constructor(maxEntries = 10_000, maxChars = 16 * 1024 * 1024) {
    this.#maxEntries = maxEntries
    this.#maxChars = maxChars
  }

  get(token: string, now: number): T | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined || entry.until > now) return entry
    this.#delete(token)
    return undefined
  }

  set(token: string, entry: T, now: number): void {
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
