/**
 * Counts of the log entries the log plugins (file-log, http-log) delivered and dropped, per plugin: the
 * process-wide tallies `/metrics` reads at scrape time (gatehouse_log_entries_{sent,dropped}_total,
 * docs/metrics.md). Process-wide because an entry outlives the configuration that logged it: a queue
 * keeps sending what an earlier configuration's requests logged, and its counts must not reset on reload.
 */

/** Why an entry was dropped; a label value of gatehouse_log_entries_dropped_total. */
export type DropReason =
  /** The plugin's queue held queue.max_entries (or max_bytes) already: the oldest entry made room. */
  | 'queue_full'
  /** One entry alone was larger than queue.max_bytes. */
  | 'too_large'
  /** The receiver kept failing until queue.max_retry_time passed. */
  | 'retries_exhausted'
  /** The gateway stopped before the entry could be delivered (the bounded flush at shutdown). */
  | 'shutdown'
  /** The log file could not be opened or written. */
  | 'unwritable'

export class LogShippingCounts {
  readonly #sent = new Map<string, number>()
  readonly #dropped = new Map<string, number>()

  sent(plugin: string, entries: number): void {
    this.#sent.set(plugin, (this.#sent.get(plugin) ?? 0) + entries)
  }

  dropped(plugin: string, reason: DropReason, entries: number): void {
    const key = `${plugin}\0${reason}`
    this.#dropped.set(key, (this.#dropped.get(key) ?? 0) + entries)
  }

  sentSeries(): { labels: { plugin: string }; value: number }[] {
    return [...this.#sent].map(([plugin, value]) => ({ labels: { plugin }, value }))
  }

  droppedSeries(): { labels: { plugin: string; reason: string }; value: number }[] {
    return [...this.#dropped].map(([key, value]) => {
      const [plugin, reason] = key.split('\0') as [string, string]
      return { labels: { plugin, reason }, value }
    })
  }
}

/** This process's counts. */
export const logShipping = new LogShippingCounts()
