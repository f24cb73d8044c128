/**
 * The built-in provider's public signing keys, handed in process to the gateway's own verifiers (issue
 * 10): an `openid-connect` issuer that is this gateway's provider takes its keys from here instead of
 * fetching its JWKS over HTTP with a cooldown, so a rotation or a withdrawal never makes it refuse a good
 * token or keep a bad one. The identity host publishes every key set it builds a provider from before
 * that provider serves (host.ts), so a token the provider signs is verifiable on the next request.
 *
 * A token naming a kid the set lacks may come from another node that rotated first: the store is asked
 * (`refresh`) before it is refused. Asks are single-flight and at most one per ASK_INTERVAL_MS however
 * many unknown kids arrive; a request waits for the next ask rather than being refused by a stale one.
 * A kid that was in a set and left it (retired and deleted, or withdrawn) never comes back (kids are
 * RFC 7638 thumbprints), so it is refused at once without asking.
 */
import { createLocalJWKSet, errors, type JWK, type JWTVerifyGetKey } from 'jose'

/** Least time between two store asks caused by unknown kids, in milliseconds. */
export const ASK_INTERVAL_MS = 100
/** Kids remembered as gone (bounded: a long-running node sees a few per rotation). */
const GONE_LIMIT = 1000

/** What the identity host answers to an ask: the store's keys, published here when they changed. */
export type AskStore = () => Promise<void>

export class ProviderKeys {
  #issuer: string | null = null
  #local: JWTVerifyGetKey | null = null
  #kids: ReadonlySet<string> = new Set()
  readonly #gone = new Set<string>()
  #version = 0
  #ask: AskStore | null = null
  #lastAsk = Number.NEGATIVE_INFINITY
  #next: Promise<void> | null = null

  /** The issuer of the provider being served, or null while none is. */
  get issuer(): string | null {
    return this.#issuer
  }

  /** Changes whenever the set changes: verifications remembered under another version are redone. */
  get version(): number {
    return this.#version
  }

  /** Whether a kid is in the current set. */
  has(kid: string): boolean {
    return this.#kids.has(kid)
  }

  /** Whether a kid was in an earlier set and left it (deleted or withdrawn): it is never trusted again. */
  gone(kid: string): boolean {
    return this.#gone.has(kid)
  }

  /** The identity host: the keys (public JWKs) of the provider about to serve `issuer`, and how to ask. */
  publish(issuer: string, jwks: readonly JWK[], ask: AskStore): void {
    const kids = new Set(jwks.map((k) => k.kid!))
    for (const kid of this.#kids) if (!kids.has(kid)) this.#forget(kid)
    this.#issuer = issuer
    this.#kids = kids
    this.#local = createLocalJWKSet({ keys: jwks.map((k) => ({ ...k })) })
    this.#ask = ask
    this.#version++
  }

  /** The identity host stopped: nothing is trusted until a provider serves again. */
  clear(): void {
    this.#issuer = null
    this.#kids = new Set()
    this.#local = null
    this.#ask = null
    this.#version++
  }

  /** jose's key resolver over the current set; rejects with jose's JWKS errors. */
  getKey: JWTVerifyGetKey = (header, token) => {
    if (this.#local === null) return Promise.reject(new errors.JWKSNoMatchingKey())
    return this.#local(header, token)
  }

  /**
   * Asks the store for keys newer than the set (another node rotated). Resolves once an ask that
   * started after this call has finished; never rejects (a failed ask leaves the set as it was).
   */
  refresh(): Promise<void> {
    if (this.#ask === null) return Promise.resolve()
    this.#next ??= new Promise<void>((resolve) =>
      setTimeout(resolve, Math.max(0, this.#lastAsk + ASK_INTERVAL_MS - Date.now())),
    ).then(() => {
      this.#next = null
      this.#lastAsk = Date.now()
      return this.#ask?.().catch(() => {})
    })
    return this.#next
  }

  #forget(kid: string): void {
    if (this.#gone.size >= GONE_LIMIT) this.#gone.delete(this.#gone.values().next().value!)
    this.#gone.add(kid)
  }
}
