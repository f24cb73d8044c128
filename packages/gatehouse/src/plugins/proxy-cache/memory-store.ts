/**
 * The memory strategy: a bounded LRU map per dictionary name (Kong's shared dictionary), living as long
 * as the process so a reload keeps what is cached. Bounded by entries and by bytes; the least recently
 * used entries go first, and an entry larger than the whole store is not kept. Expired entries are
 * dropped when read, or when the bounds push them out.
 */
import { type CachedResponse, entrySize } from './entry.ts'
import type { CacheStore } from './store.ts'

export interface MemoryLimits {
  readonly maxEntries: number
  /** Bytes. */
  readonly maxSize: number
}

interface Slot {
  readonly entry: CachedResponse
  /** Epoch milliseconds. */
  readonly expiresAt: number
  readonly size: number
}

export class MemoryStore implements CacheStore {
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  readonly #slots = new Map<string, Slot>()
  #limits: MemoryLimits
  #bytes = 0

  constructor(limits: MemoryLimits) {
    this.#limits = limits
  }

  get entries(): number {
    return this.#slots.size
  }

  get bytes(): number {
    return this.#bytes
  }

  /** New bounds (a configuration was loaded); evicts at once when they shrank. */
  resize(limits: MemoryLimits): void {
    this.#limits = limits
    this.#evict()
  }

  fetch(key: string, now = Date.now()): CachedResponse | null {
    const slot = this.#slots.get(key)
    if (slot === undefined) return null
    this.#slots.delete(key)
    if (slot.expiresAt <= now) {
      this.#bytes -= slot.size
      return null
    }
    this.#slots.set(key, slot)
    return slot.entry
  }

  store(key: string, entry: CachedResponse, ttl: number, now = Date.now()): void {
    this.purge(key)
    const size = entrySize(key, entry)
    if (size > this.#limits.maxSize) return
    this.#slots.set(key, { entry, expiresAt: now + ttl, size })
    this.#bytes += size
    this.#evict()
  }

  purge(key: string): boolean {
    const slot = this.#slots.get(key)
    if (slot === undefined) return false
    this.#slots.delete(key)
    this.#bytes -= slot.size
    return true
  }

  flush(): void {
    this.#slots.clear()
    this.#bytes = 0
  }

  #evict(): void {
    const { maxEntries, maxSize } = this.#limits
    while (this.#slots.size > maxEntries || this.#bytes > maxSize) {
      const oldest = this.#slots.keys().next().value
      if (oldest === undefined) break
      this.purge(oldest)
    }
  }
}

const dictionaries = new Map<string, MemoryStore>()

/** The store named `name`, created on first use; `limits` replace its bounds. */
export function memoryDictionary(name: string, limits: MemoryLimits): MemoryStore {
  let store = dictionaries.get(name)
  if (store === undefined) {
    store = new MemoryStore(limits)
    dictionaries.set(name, store)
  } else store.resize(limits)
  return store
}

/** The store named `name` if a plugin instance created it (for the admin API), else null. */
export function existingDictionary(name: string): MemoryStore | null {
  return dictionaries.get(name) ?? null
}
