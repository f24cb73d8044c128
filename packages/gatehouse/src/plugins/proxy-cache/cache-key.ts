/**
 * The cache key, built as Kong's cache_key.lua builds it: sha256 over who is asking, the route, the
 * method, the path and the varying query parameters and headers. "Who" is the consumer (Kong), else the
 * principal an authentication plugin established without one (a token or session caller), else nobody:
 * so a response cached for one caller is never served to another. The parts are JSON-encoded rather than
 * joined with `:` and `|` as Kong does, so no value can make two different requests share a key.
 */
import { createHash } from 'node:crypto'
import type { RequestState } from '../../pipeline/request-state.ts'

export interface KeyRules {
  readonly ignoreUriCase: boolean
  /** The query parameters in the key, in order; null for all of them, sorted. */
  readonly varyQueryParams: readonly string[] | null
  /** Lower-cased request header names in the key, in order. */
  readonly varyHeaders: readonly string[]
}

/** Who the response is for: the consumer, else the principal, else '' (anyone). */
export function callerOf(state: RequestState): string {
  if (state.consumer !== null) return `consumer:${state.consumer.id}`
  const p = state.principal
  if (p !== null) return `principal:${JSON.stringify([p.method, p.issuer, p.subject])}`
  return ''
}

export function cacheKey(state: RequestState, rules: KeyRules): string {
  const route = state.route!
  const params = parseQuery(state.query)
  const names = rules.varyQueryParams ?? [...params.keys()].sort()
  const query: (string | readonly string[])[] = []
  for (const name of names) {
    const values = params.get(name)
    if (values !== undefined) query.push(name, values.length === 1 ? values[0]! : values.toSorted())
  }
  const headers: (string | null)[] = []
  for (const name of rules.varyHeaders) {
    const value = state.req.headers[name]
    headers.push(name, value === undefined ? null : Array.isArray(value) ? value.toSorted().join(',') : value)
  }
  const path = rules.ignoreUriCase ? state.path.toLowerCase() : state.path
  const parts = [
    callerOf(state),
    route.route.id,
    route.service?.id ?? null,
    state.method,
    path,
    query,
    headers,
  ]
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex')
}

/** `?a=1&b&a=2` → a: [1, 2], b: [''] (a bare name and `b=` are the same here). */
function parseQuery(query: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  if (query.length <= 1) return out
  for (const pair of query.slice(1).split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const name = decode(eq < 0 ? pair : pair.slice(0, eq))
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1))
    const list = out.get(name)
    if (list === undefined) out.set(name, [value])
    else list.push(value)
  }
  return out
}

function decode(text: string): string {
  const plus = text.includes('+') ? text.replaceAll('+', ' ') : text
  try {
    return decodeURIComponent(plus)
  } catch {
    return plus
  }
}
