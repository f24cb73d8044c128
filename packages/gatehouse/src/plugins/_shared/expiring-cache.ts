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

  /** The characters an entry counts for against maxChars: its key's, unless the entry holds more. */
  readonly #sizeOf: (key: string, entry: T) => number

  constructor(
    maxEntries = 10_000,
    maxChars = 16 * 1024 * 1024,
    sizeOf: (key: string, entry: T) => number = (key) => key.length,
  ) {
    this.#maxEntries = maxEntries
    this.#maxChars = maxChars
    this.#sizeOf = sizeOf
  }

  get(token: string, now: number): T | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined || entry.until > now) return entry
    this.#delete(token)
    return undefined
  }

  set(token: string, entry: T, now: number): void {
    const size = this.#sizeOf(token, entry)
    if (entry.until <= now || size > this.#maxChars) return
    if (this.#entries.has(token)) this.#delete(token)
    this.#entries.set(token, entry)
    this.#chars += size
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries && this.#chars <= this.#maxChars) break
      this.#delete(oldest)
    }
  }

  get size(): number {
    return this.#entries.size
  }

  /** The entries not yet expired at `now`, oldest first. */
  live(now: number): [string, T][] {
    return [...this.#entries].filter(([, entry]) => entry.until > now)
  }

  clear(): void {
    this.#entries.clear()
    this.#chars = 0
  }

  #delete(token: string): void {
    const entry = this.#entries.get(token)
    if (entry === undefined) return
    this.#entries.delete(token)
    this.#chars -= this.#sizeOf(token, entry)
  }
}

/** Characters of a signed token's end that key SignedTokenCache. */
const TAIL = 32

/** What SignedTokenCache keeps under a tail: the whole token, to confirm a hit. */
interface Tailed<T> extends Expiring {
  readonly token: string
  readonly entry: T
}

/**
 * An ExpiringCache of signed tokens (JWTs: their last characters are signature, unpredictable), keyed
 * by the token's last 32 characters and confirmed by comparing the whole token. Looking a 600-character
 * token up in a Map hashes all of it on every request; a 32-character key is hashed in a fraction of
 * that, and the comparison that confirms a hit is a memory compare. Two tokens with the same tail (which
 * only someone copying a signature would make) are simply a miss for the one not kept: the cache never
 * answers for a token it was not given. The character bound counts the whole tokens, as before.
 */
export class SignedTokenCache<T extends Expiring> {
  readonly #cache: ExpiringCache<Tailed<T>>

  constructor(maxEntries = 10_000, maxChars = 16 * 1024 * 1024) {
    // Each entry holds its token: the bound counts the tokens' characters, not the keys'.
    this.#cache = new ExpiringCache(maxEntries, maxChars, (_key, tailed) => tailed.token.length)
  }

  get(token: string, now: number): T | undefined {
    const hit = this.#cache.get(tailOf(token), now)
    return hit !== undefined && hit.token === token ? hit.entry : undefined
  }

  set(token: string, entry: T, now: number): void {
    this.#cache.set(tailOf(token), { token, entry, until: entry.until }, now)
  }

  get size(): number {
    return this.#cache.size
  }

  clear(): void {
    this.#cache.clear()
  }
}

function tailOf(token: string): string {
  return token.length > 2 * TAIL ? token.slice(-TAIL) : token
}
