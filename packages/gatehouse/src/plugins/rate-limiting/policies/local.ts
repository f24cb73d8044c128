/**
 * The `local` policy: counters in this process's memory, one per key and window, dropped when their
 * window ends. Shared by every configuration the process loads (keys carry the plugin id, which is stable
 * across reloads), so a reload does not hand every client a fresh quota. Bounded: past MAX_COUNTERS the
 * ended windows are swept, then the oldest counters are evicted (as Kong's shared dict evicts), which
 * can only ever let a request through, never refuse one wrongly.
 */
import { workerLink } from '../../../cluster/link.ts'
import { NodeCounters } from '../../../cluster/node-state.ts'
import { type CounterPolicy, type Tally, tallyOf } from './policy.ts'

/** Counters kept at most, across every plugin of the process. */
export const MAX_COUNTERS = 100_000
/** Inserts between two sweeps of ended windows. */
const SWEEP_EVERY = 10_000

interface Counter {
  count: number
  expiresAt: number
}

export class LocalCounters implements CounterPolicy {
  readonly #counters = new Map<string, Counter>()
  readonly #max: number
  #insertsSinceSweep = 0

  constructor(max = MAX_COUNTERS) {
    this.#max = max
  }

  get size(): number {
    return this.#counters.size
  }

  hit(keys: readonly string[], limits: readonly number[], expiresAt: readonly number[], now: number): Tally {
    const counts: number[] = []
    let admitted = true
    for (let i = 0; i < keys.length; i++) {
      const c = this.#counters.get(keys[i]!)
      const count = c !== undefined && c.expiresAt > now ? c.count : 0
      counts.push(count)
      if (count >= limits[i]!) admitted = false
    }
    if (!admitted) return { admitted, counts }
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      const c = this.#counters.get(key)
      if (c !== undefined && c.expiresAt > now) c.count++
      else this.#insert(key, { count: 1, expiresAt: expiresAt[i]! }, now)
      counts[i]!++
    }
    return { admitted, counts }
  }

  peek(
    keys: readonly string[],
    limits: readonly number[],
    _expiresAt: readonly number[],
    now: number,
  ): Tally {
    return tallyOf(
      keys.map((key) => {
        const c = this.#counters.get(key)
        return c !== undefined && c.expiresAt > now ? c.count : 0
      }),
      limits,
    )
  }

  async close(): Promise<void> {}

  #insert(key: string, counter: Counter, now: number): void {
    // Re-inserting moves the key to the end, so Map order stays oldest-first for eviction.
    this.#counters.delete(key)
    if (++this.#insertsSinceSweep >= SWEEP_EVERY || this.#counters.size >= this.#max) this.#sweep(now)
    if (this.#counters.size >= this.#max) {
      let evict = Math.max(1, Math.floor(this.#max / 100))
      for (const oldest of this.#counters.keys()) {
        this.#counters.delete(oldest)
        if (--evict === 0) break
      }
    }
    this.#counters.set(key, counter)
  }

  #sweep(now: number): void {
    this.#insertsSinceSweep = 0
    for (const [key, c] of this.#counters) if (c.expiresAt <= now) this.#counters.delete(key)
  }
}

/** The process's local counters, shared by every rate-limiting instance with `policy: local`. */
export const localCounters = new LocalCounters()

/**
 * The counters `policy: local` uses: this process's, or in a worker of several the primary's
 * (cluster/node-state.ts), so the limit holds for the node, not for each worker.
 */
export function localCounterPolicy(): CounterPolicy {
  const link = workerLink()
  if (link === null) return localCounters
  nodeCounters ??= new NodeCounters(link.channel)
  return nodeCounters
}

let nodeCounters: NodeCounters | null = null
