/**
 * Captures an upstream response for the cache as it streams to the client (a ResponseTap): the client
 * gets every chunk when it arrives, and the capture keeps a reference to each until the body ends,
 * then hands over the entry. A response the rules refuse is not captured at all (`Bypass`); a body that
 * outgrows max_body_size is let go mid-way and streams on uncached.
 */
import type { HeaderMap, ResponseTap } from '../../pipeline/request-state.ts'
import type { CachedResponse } from './entry.ts'
import { freshFor, type ResponseRules } from './rules.ts'

export type CacheStatus = 'Miss' | 'Hit' | 'Refresh' | 'Bypass'

/** What the plugin tells the client about one request (X-Cache-Status, X-Cache-Key, Age). */
export interface Verdict {
  status: CacheStatus
  key: string | null
  /** Seconds, on hits. */
  age: number
}

export class ResponseCapture implements ResponseTap {
  readonly #rules: ResponseRules
  readonly #verdict: Verdict
  readonly #save: (entry: CachedResponse) => void
  #status = 0
  #headers: HeaderMap | null = null
  #ttl = 0
  #timestamp = 0
  #chunks: Buffer[] = []
  #size = 0
  #dropped = false

  constructor(rules: ResponseRules, verdict: Verdict, save: (entry: CachedResponse) => void) {
    this.#rules = rules
    this.#verdict = verdict
    this.#save = save
  }

  start(status: number, headers: Readonly<HeaderMap>): boolean {
    const now = Date.now()
    const ttl = freshFor(this.#rules, status, headers, now)
    if (ttl === null) {
      this.#verdict.status = 'Bypass'
      return false
    }
    const copy: HeaderMap = Object.create(null)
    for (const name in headers) {
      const value = headers[name]!
      copy[name] = Array.isArray(value) ? [...value] : value
    }
    this.#status = status
    this.#headers = copy
    this.#ttl = ttl
    this.#timestamp = now
    return true
  }

  data(chunk: Buffer): void {
    if (this.#dropped) return
    this.#size += chunk.length
    if (this.#size > this.#rules.maxBodySize) {
      this.#dropped = true
      this.#chunks = []
      return
    }
    this.#chunks.push(chunk)
  }

  end(): void {
    if (this.#dropped) return
    this.#dropped = true
    // Copied into memory of its own: a chunk may be a slice of a larger socket read, or of Node's shared
    // pool, which a long-lived entry would otherwise keep alive whole.
    const body = Buffer.allocUnsafeSlow(this.#size)
    let at = 0
    for (const chunk of this.#chunks) at += chunk.copy(body, at)
    this.#chunks = []
    this.#save({
      status: this.#status,
      headers: this.#headers!,
      body,
      timestamp: this.#timestamp,
      ttl: this.#ttl,
    })
  }

  abort(): void {
    this.#dropped = true
    this.#chunks = []
  }
}
