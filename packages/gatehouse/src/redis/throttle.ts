/**
 * Log throttling for conditions that repeat on every request or every reconnection attempt (Redis
 * down): the first occurrence is logged at once, then at most one line per interval, carrying how many
 * were left out since the last one.
 */
export class LogThrottle {
  readonly #interval: number
  #last = Number.NEGATIVE_INFINITY
  #suppressed = 0

  /** @param interval Milliseconds between two lines. */
  constructor(interval: number) {
    this.#interval = interval
  }

  /** How many occurrences were left out since the last line when this one should be logged, else null. */
  take(now = Date.now()): number | null {
    if (now - this.#last < this.#interval) {
      this.#suppressed++
      return null
    }
    const suppressed = this.#suppressed
    this.#last = now
    this.#suppressed = 0
    return suppressed
  }

  /** Starts over: the next occurrence is logged at once (the condition ended). */
  reset(): void {
    this.#last = Number.NEGATIVE_INFINITY
    this.#suppressed = 0
  }
}
