/**
 * Kong 3.x's queue (kong/tools/queue.lua) for log entries: bounded, batched, retried with exponential
 * backoff, never waited on by the request that queued an entry.
 *
 * - `enqueue` is synchronous and O(1). When max_entries (or max_bytes) is reached the OLDEST entry is
 *   dropped for the new one (Kong's rule: the newest entries say most about an ongoing incident), counted,
 *   and warned about once per episode; a warning at 80 % of max_entries comes first, as in Kong.
 * - A batch is sent once it has max_batch_size entries, or max_coalescing_delay after its first entry.
 * - A failed batch is retried after initial_retry_delay, doubling up to max_retry_delay, until
 *   max_retry_time has passed since its first attempt; then it is dropped and counted.
 * - `close(ms)` sends what is queued at once (no coalescing), for at most `ms`; what is left then is
 *   dropped and counted as `shutdown`, and the batch in flight is aborted.
 */
import type { DropReason } from '../../observability/log-shipping.ts'

export interface QueueOptions {
  readonly maxBatchSize: number
  readonly maxCoalescingDelayMs: number
  readonly maxEntries: number
  readonly maxBytes: number | null
  /** Negative: a failed batch is not retried. */
  readonly maxRetryTimeMs: number
  readonly initialRetryDelayMs: number
  readonly maxRetryDelayMs: number
  /** Batches in flight at once. */
  readonly concurrency: number
}

export interface QueueEvents {
  sent(entries: number): void
  dropped(reason: DropReason, entries: number): void
  /** A message for the operator; `fields` never hold an entry. */
  warn(fields: Record<string, unknown>, message: string): void
}

/** Sends one batch; rejects when the receiver did not take it. `signal` aborts it (at the end of a shutdown). */
export type SendBatch = (entries: readonly string[], signal: AbortSignal) => Promise<void>

const CAPACITY_WARNING = 0.8

export class LogQueue {
  readonly #options: QueueOptions
  readonly #send: SendBatch
  readonly #events: QueueEvents
  /** Entries from `#head` on; compacted when the consumed prefix grows large. */
  #entries: string[] = []
  #head = 0
  #bytes = 0
  /** performance.now() when the oldest waiting entry was queued. */
  #firstQueuedAt = 0
  #workers = 0
  #closing = false
  /** Wakes a worker waiting for entries or for its batch to fill. */
  #wake: (() => void) | null = null
  readonly #abort = new AbortController()
  #warnedCapacity = false
  #droppingSince = 0
  #failing = false

  constructor(options: QueueOptions, send: SendBatch, events: QueueEvents) {
    this.#options = options
    this.#send = send
    this.#events = events
  }

  get size(): number {
    return this.#entries.length - this.#head
  }

  enqueue(entry: string): void {
    if (this.#closing) {
      this.#events.dropped('shutdown', 1)
      return
    }
    const { maxEntries, maxBytes } = this.#options
    if (maxBytes !== null && entry.length > maxBytes) {
      this.#events.dropped('too_large', 1)
      this.#events.warn(
        { bytes: entry.length, max_bytes: maxBytes },
        "http-log: an entry is larger than the queue's max_bytes; dropped",
      )
      return
    }
    let dropped = 0
    while (this.size >= maxEntries || (maxBytes !== null && this.#bytes + entry.length > maxBytes)) {
      this.#dropOldest()
      dropped++
    }
    if (dropped > 0) {
      this.#events.dropped('queue_full', dropped)
      if (this.#droppingSince === 0)
        this.#events.warn(
          { max_entries: maxEntries, max_bytes: maxBytes },
          'http-log: queue full, dropping the oldest entries until sending catches up',
        )
      this.#droppingSince += dropped
    } else if (!this.#warnedCapacity && this.size + 1 >= maxEntries * CAPACITY_WARNING) {
      this.#warnedCapacity = true
      this.#events.warn({ queued: this.size + 1, max_entries: maxEntries }, 'http-log: queue at 80% capacity')
    }
    if (this.size === 0) this.#firstQueuedAt = performance.now()
    this.#entries.push(entry)
    this.#bytes += entry.length
    this.#kick()
  }

  /**
   * Sends what is queued without waiting to coalesce, for `ms` at most; then drops (and counts) the rest
   * and aborts the batch in flight. Resolves when the workers have stopped.
   */
  async close(ms: number): Promise<void> {
    this.#closing = true
    this.#wake?.()
    const deadline = setTimeout(() => this.#abort.abort(new Error('shutdown')), ms)
    try {
      while (this.#workers > 0) await this.#idle()
    } finally {
      clearTimeout(deadline)
    }
    const left = this.size
    if (left > 0) this.#events.dropped('shutdown', left)
    this.#entries = []
    this.#head = 0
    this.#bytes = 0
  }

  #idleWaiters: (() => void)[] = []
  #idle(): Promise<void> {
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  #kick(): void {
    if (this.#wake !== null) {
      // A worker waits to fill its batch: tell it when the batch is full.
      if (this.size >= this.#options.maxBatchSize) this.#wake()
      return
    }
    if (this.#workers < this.#options.concurrency && this.size > 0) {
      this.#workers++
      void this.#work()
    }
  }

  #dropOldest(): void {
    const entry = this.#entries[this.#head]!
    this.#entries[this.#head] = ''
    this.#head++
    this.#bytes -= entry.length
    this.#compact()
  }

  #compact(): void {
    if (this.#head === this.#entries.length) {
      this.#entries = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#head = 0
    }
  }

  async #work(): Promise<void> {
    try {
      while (this.size > 0 && !this.#abort.signal.aborted) {
        await this.#coalesce()
        const count = Math.min(this.size, this.#options.maxBatchSize)
        if (count === 0) continue
        const batch = this.#entries.slice(this.#head, this.#head + count)
        for (let i = 0; i < count; i++) this.#dropOldest()
        if (this.size > 0) this.#firstQueuedAt = performance.now()
        if (this.#droppingSince > 0 && this.size < this.#options.maxEntries) {
          this.#events.warn({ dropped: this.#droppingSince }, 'http-log: queue resumed processing')
          this.#droppingSince = 0
        }
        if (this.size < this.#options.maxEntries * CAPACITY_WARNING) this.#warnedCapacity = false
        // Another worker may take the next batch while this one is in flight.
        this.#kickOther()
        await this.#deliver(batch)
      }
    } finally {
      this.#workers--
      if (this.#workers === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve()
      else if (this.size > 0 && !this.#closing) this.#kickOther()
    }
  }

  #kickOther(): void {
    if (this.#workers < this.#options.concurrency && this.size > 0 && this.#wake === null) {
      this.#workers++
      void this.#work()
    }
  }

  /** Waits until a full batch is queued or the oldest entry has waited max_coalescing_delay (not when closing). */
  async #coalesce(): Promise<void> {
    const { maxBatchSize, maxCoalescingDelayMs } = this.#options
    while (!this.#closing && this.size < maxBatchSize && this.#wake === null) {
      const left = this.#firstQueuedAt + maxCoalescingDelayMs - performance.now()
      if (left <= 0) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left)
        function done() {
          clearTimeout(timer)
          resolve()
        }
        this.#wake = done
      })
      this.#wake = null
    }
  }

  async #deliver(batch: readonly string[]): Promise<void> {
    const { maxRetryTimeMs, initialRetryDelayMs, maxRetryDelayMs } = this.#options
    const started = performance.now()
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#send(batch, this.#abort.signal)
        this.#events.sent(batch.length)
        if (this.#failing) {
          this.#failing = false
          this.#events.warn({}, 'http-log: the log server takes entries again')
        }
        return
      } catch (err) {
        if (!this.#failing) {
          this.#failing = true
          this.#events.warn(
            { err: (err as Error).message },
            'http-log: the log server did not take a batch; retrying with backoff',
          )
        }
      }
      if (this.#abort.signal.aborted) {
        this.#events.dropped('shutdown', batch.length)
        return
      }
      const elapsed = performance.now() - started
      if (maxRetryTimeMs < 0 || elapsed > maxRetryTimeMs) {
        this.#events.dropped('retries_exhausted', batch.length)
        this.#events.warn(
          { entries: batch.length, max_retry_time_s: maxRetryTimeMs / 1000 },
          'http-log: could not send entries within max_retry_time; they are dropped',
        )
        return
      }
      const delay = Math.min(maxRetryDelayMs, 2 ** attempt * initialRetryDelayMs)
      await this.#sleep(delay)
    }
  }

  /** Sleeps `ms`, ended early by the shutdown deadline. */
  #sleep(ms: number): Promise<void> {
    const signal = this.#abort.signal
    if (signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done)
    })
  }
}
