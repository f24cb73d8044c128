/**
 * The in-process session store: a Map with a lifetime per entry, bounded (the entry written longest ago
 * goes first once `maxEntries` is reached), swept of expired entries once a minute on a timer that does
 * not keep the process alive.
 */
import type { SessionRecord } from './session.ts'
import type { SessionStore } from './store.ts'

interface Entry {
  readonly record: SessionRecord
  /** Date.now() after which the entry is gone. */
  readonly until: number
}

export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, Entry>()
  readonly #maxEntries: number
  readonly #sweeper: NodeJS.Timeout

  constructor(maxEntries = 100_000, sweepEvery = 60_000) {
    this.#maxEntries = maxEntries
    this.#sweeper = setInterval(() => this.#sweep(), sweepEvery).unref()
  }

  get(key: string): Promise<SessionRecord | undefined> {
    const entry = this.#entries.get(key)
    if (entry === undefined) return Promise.resolve(undefined)
    if (entry.until <= Date.now()) {
      this.#entries.delete(key)
      return Promise.resolve(undefined)
    }
    return Promise.resolve(entry.record)
  }

  set(key: string, record: SessionRecord, ttl: number): Promise<void> {
    this.#entries.delete(key)
    if (ttl > 0) {
      this.#entries.set(key, { record, until: Date.now() + ttl * 1000 })
      for (const oldest of this.#entries.keys()) {
        if (this.#entries.size <= this.#maxEntries) break
        this.#entries.delete(oldest)
      }
    }
    return Promise.resolve()
  }

  delete(key: string): Promise<void> {
    this.#entries.delete(key)
    return Promise.resolve()
  }

  get size(): number {
    return this.#entries.size
  }

  /** Stops the sweeper (tests; the process-wide store lives as long as the process). */
  close(): void {
    clearInterval(this.#sweeper)
  }

  #sweep(): void {
    const now = Date.now()
    for (const [key, entry] of this.#entries) if (entry.until <= now) this.#entries.delete(key)
  }
}
