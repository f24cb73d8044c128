/**
 * Which upstream responses may be stored, and for how long. Kong's rules (status, content type, and with
 * cache_control the response's own Cache-Control and lifetime) plus the ones that keep a response meant
 * for one caller out of a shared entry, whatever cache_control says: `private` and `no-store` responses,
 * Set-Cookie (unless cache_set_cookie), and a `Vary` on something the key does not hold (Kong leaves
 * Vary as a TODO; a cache that ignores it serves, say, a gzip body to a client that cannot read it).
 */
import type { HeaderMap } from '../../pipeline/request-state.ts'
import { type Directives, parseDirectives, resourceTtl, seconds } from './cache-control.ts'
import type { CachedResponse } from './entry.ts'
import { type MediaType, mediaTypeMatches, parseMediaType } from './media-type.ts'
import type { ProxyCacheConfig } from './schema.ts'

export interface ResponseRules {
  readonly codes: ReadonlySet<number>
  readonly contentTypes: readonly MediaType[]
  readonly cacheControl: boolean
  /** Seconds, when cache_control is off. */
  readonly cacheTtl: number
  readonly setCookie: boolean
  /** Lower-cased vary_headers: the request headers the key holds. */
  readonly varyHeaders: ReadonlySet<string>
  readonly maxBodySize: number
}

export function responseRules(config: ProxyCacheConfig): ResponseRules {
  return {
    codes: new Set(config.response_code),
    contentTypes: config.content_type.map((t) => parseMediaType(t)!),
    cacheControl: config.cache_control,
    cacheTtl: config.cache_ttl,
    setCookie: config.cache_set_cookie,
    varyHeaders: new Set(config.vary_headers.map((h) => h.toLowerCase())),
    maxBodySize: config.max_body_size,
  }
}

/** Seconds the response is served from the cache, or null when it must not be stored. */
export function freshFor(
  rules: ResponseRules,
  status: number,
  headers: Readonly<HeaderMap>,
  now: number,
): number | null {
  if (!rules.codes.has(status)) return null
  const type = headers['content-type']
  if (typeof type !== 'string' || type === '') return null
  const parsed = parseMediaType(type)
  if (parsed === null || !rules.contentTypes.some((t) => mediaTypeMatches(t, parsed))) return null
  if (headers['set-cookie'] !== undefined && !rules.setCookie) return null
  const length = headers['content-length']
  if (typeof length === 'string' && Number(length) > rules.maxBodySize) return null
  const cc = parseDirectives(headers['cache-control'])
  if (cc.private !== undefined || cc['no-store'] !== undefined) return null
  if (!varyCovered(headers.vary, rules.varyHeaders)) return null
  if (!rules.cacheControl) return rules.cacheTtl
  if (cc['no-cache'] !== undefined) return null
  const ttl = resourceTtl(cc, headers.expires, headers.date, now)
  return ttl > 0 ? ttl : null
}

function varyCovered(vary: HeaderMap[string] | undefined, keyed: ReadonlySet<string>): boolean {
  if (vary === undefined) return true
  for (const name of (Array.isArray(vary) ? vary.join(',') : vary).split(',')) {
    const n = name.trim().toLowerCase()
    if (n !== '' && !keyed.has(n)) return false
  }
  return true
}

/**
 * Whether a stored entry may answer this request, `age` seconds after the upstream sent it. Without
 * cache_control: for cache_ttl seconds (storage_ttl may keep it longer, for `max-stale`). With it, the
 * request's directives as Kong reads them (`max-age`, `max-stale`, `min-fresh`), plus the entry's own
 * lifetime, which a stale entry kept by storage_ttl must not outlive unless the client allows it.
 */
export function servable(
  cacheControl: boolean,
  cacheTtl: number,
  request: Directives,
  entry: CachedResponse,
  age: number,
): boolean {
  if (!cacheControl) return age <= cacheTtl
  if (request['no-cache'] !== undefined) return false
  const maxAge = seconds(request, 'max-age')
  if (maxAge !== null && age > maxAge) return false
  const minFresh = seconds(request, 'min-fresh')
  if (minFresh !== null && entry.ttl - age < minFresh) return false
  if (age <= entry.ttl) return true
  const maxStale = request['max-stale']
  if (maxStale === undefined) return false
  const allowed = seconds(request, 'max-stale')
  return maxStale === true || (allowed !== null && age - entry.ttl <= allowed)
}
