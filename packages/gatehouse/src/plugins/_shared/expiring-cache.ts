/**
 * A bounded map from strings to entries that expire: the oldest entry goes first when either bound is
 * reached (entries and total key characters), and an entry is dropped when read after its `until`.
 *
 * Its main use is remembering tokens whose signature verified, keyed by the exact token string, so a
 * client that sends the same token again costs a map lookup instead of a signature check (HAProxy and
 * Kong verify every time). The jwt and openid-connect plugins each make sure such a cache never accepts
 * a token a fresh verification would reject:
 * - only what is fixed for a given token string and configuration is remembered (decoding, the key
 *   lookup, the algorithm and the signature); what depends on the time either runs again on every hit
 *   (jwt) or ends the entry (`until`, openid-connect);
 * - each plugin instance has its own cache and instances are rebuilt on every configuration reload, so
 *   a changed or removed credential cannot be served from it;
 * - only tokens whose signature verified get in, so only holders of a signing key can fill it.
 * The internal-token plugin keeps minted tokens and user-info answers in it the same way.
 * Default bounds: 10,000 entries and 16 Mi characters of keys (tokens are at most 8192 characters).
 */

/** What the cache keeps: anything, with the time (Date.now()) after which it is dropped. */
export interface Expiring {
  readonly until: number
}

export class ExpiringCache<T extends Expiring> {
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
