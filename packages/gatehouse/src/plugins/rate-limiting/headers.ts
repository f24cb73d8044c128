/**
 * Kong 3.x's rate-limit headers (kong/plugins/rate-limiting/handler.lua): `X-RateLimit-Limit-<Window>`
 * and `X-RateLimit-Remaining-<Window>` for every configured window, then `RateLimit-Limit`,
 * `RateLimit-Remaining` and `RateLimit-Reset` (draft-polli-ratelimit-headers) for the most restrictive
 * one: the fewest requests remaining, the longer window on a tie. A refusal adds `Retry-After`, the same
 * seconds as `RateLimit-Reset`. Kong counts a calendar month as 30 days there; this counts the seconds
 * to the real end of the window.
 */
import type { HeaderMap } from '../../pipeline/request-state.ts'
import type { Tally } from './policies/policy.ts'
import type { Period } from './windows.ts'

/** A configured window, with its header names built once (lower-cased, as Node sends them). */
export interface WindowSpec {
  readonly period: Period
  readonly limit: number
  readonly limitHeader: string
  readonly remainingHeader: string
}

export function windowSpec(period: Period, limit: number): WindowSpec {
  return {
    period,
    limit,
    limitHeader: `x-ratelimit-limit-${period}`,
    remainingHeader: `x-ratelimit-remaining-${period}`,
  }
}

/** The headers for one request; `ends[i]` is when window i ends (epoch ms). */
export function rateLimitHeaders(
  windows: readonly WindowSpec[],
  tally: Tally,
  ends: readonly number[],
  now: number,
): HeaderMap {
  const headers: HeaderMap = {}
  let chosen = -1
  let chosenRemaining = 0
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!
    const remaining = Math.max(0, w.limit - tally.counts[i]!)
    headers[w.limitHeader] = String(w.limit)
    headers[w.remainingHeader] = String(remaining)
    // Windows are in ascending length, so `<=` prefers the longer one on a tie.
    if (chosen === -1 || remaining <= chosenRemaining) {
      chosen = i
      chosenRemaining = remaining
    }
  }
  const reset = String(Math.max(1, Math.ceil((ends[chosen]! - now) / 1000)))
  headers['ratelimit-limit'] = String(windows[chosen]!.limit)
  headers['ratelimit-remaining'] = String(chosenRemaining)
  headers['ratelimit-reset'] = reset
  if (!tally.admitted) headers['retry-after'] = reset
  return headers
}
