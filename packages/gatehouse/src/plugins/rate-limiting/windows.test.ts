import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { rateLimitHeaders, windowSpec } from './headers.ts'
import { windowOf } from './windows.ts'

const at = (iso: string) => Date.parse(iso)
const iso = (w: { start: number; end: number }) => [
  new Date(w.start).toISOString(),
  new Date(w.end).toISOString(),
]

describe('calendar windows (UTC)', () => {
  const now = at('2024-02-29T23:59:59.750Z')

  it('aligns seconds, minutes, hours and days on the clock', () => {
    assert.deepEqual(iso(windowOf('second', now)), ['2024-02-29T23:59:59.000Z', '2024-03-01T00:00:00.000Z'])
    assert.deepEqual(iso(windowOf('minute', now)), ['2024-02-29T23:59:00.000Z', '2024-03-01T00:00:00.000Z'])
    assert.deepEqual(iso(windowOf('hour', now)), ['2024-02-29T23:00:00.000Z', '2024-03-01T00:00:00.000Z'])
    assert.deepEqual(iso(windowOf('day', now)), ['2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z'])
  })

  it('uses calendar months and years, leap days and year ends included', () => {
    assert.deepEqual(iso(windowOf('month', now)), ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'])
    assert.deepEqual(iso(windowOf('month', at('2024-12-31T12:00:00Z'))), [
      '2024-12-01T00:00:00.000Z',
      '2025-01-01T00:00:00.000Z',
    ])
    assert.deepEqual(iso(windowOf('year', now)), ['2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'])
  })
})

describe("Kong's rate-limit headers", () => {
  const windows = [windowSpec('second', 5), windowSpec('minute', 10), windowSpec('hour', 10)]
  const now = at('2024-05-01T10:20:30.400Z')
  const ends = windows.map((w) => windowOf(w.period, now).end)

  it('describe the window with the fewest requests left, the longer one on a tie', () => {
    const h = rateLimitHeaders(windows, { admitted: true, counts: [1, 6, 6] }, ends, now)
    assert.deepEqual(h, {
      'x-ratelimit-limit-second': '5',
      'x-ratelimit-remaining-second': '4',
      'x-ratelimit-limit-minute': '10',
      'x-ratelimit-remaining-minute': '4',
      'x-ratelimit-limit-hour': '10',
      'x-ratelimit-remaining-hour': '4',
      'ratelimit-limit': '10',
      'ratelimit-remaining': '4',
      // The hour ends at 11:00:00, 39 min 29.6 s away.
      'ratelimit-reset': '2370',
    })
  })

  it('add Retry-After on a refusal: the wait until the longest full window ends', () => {
    const h = rateLimitHeaders(windows, { admitted: false, counts: [5, 7, 7] }, ends, now)
    assert.equal(h['x-ratelimit-remaining-second'], '0')
    assert.equal(h['x-ratelimit-remaining-minute'], '3')
    assert.equal(h['ratelimit-reset'], '1')
    assert.equal(h['retry-after'], '1')
  })
})
