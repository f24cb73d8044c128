/**
 * Kong's fixed calendar windows, in UTC (kong/tools/timestamp.lua): a request at 12:34:56.789 counts in
 * the second 12:34:56, the minute 12:34, the hour 12:00, the day, the calendar month and the calendar
 * year it falls in. Counters are kept per window start, so a window resets at its boundary, not a period
 * after the first request.
 */

export const PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const
export type Period = (typeof PERIODS)[number]

const FIXED: Partial<Record<Period, number>> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
}

/** Start (inclusive) and end (exclusive) of the window of `period` that `now` falls in, epoch ms. */
export function windowOf(period: Period, now: number): { start: number; end: number } {
  const size = FIXED[period]
  if (size !== undefined) {
    const start = now - (now % size)
    return { start, end: start + size }
  }
  const d = new Date(now)
  const year = d.getUTCFullYear()
  if (period === 'year') return { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) }
  const month = d.getUTCMonth()
  return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) }
}
