/**
 * Cache-Control as proxy-cache reads it (RFC 9111 §5.2, as Kong's handler parses it): directive names
 * lower-cased, a value unquoted, a directive without one `true`. `seconds` reads a delta-seconds value,
 * and `resourceTtl` the lifetime a response gives itself (§4.2.1: `s-maxage`, then `max-age`, then
 * `Expires` minus `Date`).
 */
import type { HeaderValue } from '../../pipeline/request-state.ts'

export type Directives = Readonly<Record<string, string | true>>

export const NO_DIRECTIVES: Directives = Object.freeze(Object.create(null))

export function parseDirectives(header: HeaderValue | undefined): Directives {
  if (header === undefined) return NO_DIRECTIVES
  const text = Array.isArray(header) ? header.join(',') : header
  if (text === '') return NO_DIRECTIVES
  const out: Record<string, string | true> = Object.create(null)
  for (const part of text.split(',')) {
    const eq = part.indexOf('=')
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase()
    if (name === '') continue
    if (eq < 0) {
      out[name] = true
      continue
    }
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    out[name] = value
  }
  return out
}

/** A directive's delta-seconds, or null when it is absent or not a number. */
export function seconds(directives: Directives, name: string): number | null {
  const value = directives[name]
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return null
  return Number(value)
}

/** Seconds the response says it stays fresh; 0 when it says nothing usable (or that it is stale). */
export function resourceTtl(
  directives: Directives,
  expires: HeaderValue | undefined,
  date: HeaderValue | undefined,
  now: number,
): number {
  const maxAge = seconds(directives, 's-maxage') ?? seconds(directives, 'max-age')
  if (maxAge !== null) return maxAge
  // Several Expires: the last one wins (Kong).
  const at = Date.parse(Array.isArray(expires) ? (expires[expires.length - 1] ?? '') : (expires ?? ''))
  if (Number.isNaN(at)) return 0
  const sent = typeof date === 'string' ? Date.parse(date) : Number.NaN
  return Math.max(0, Math.floor((at - (Number.isNaN(sent) ? now : sent)) / 1000))
}
