/**
 * Finding the API key in a request as Kong's key-auth does (handler.lua `do_authentication`): for each key
 * name in order, the header, then the query parameter; the first name present decides, even when its
 * value is empty. A name sent twice is a duplicate, never "the first one", so the gateway and the
 * upstream cannot disagree about which key was meant.
 */

import type { RequestState } from '../../pipeline/request-state.ts'
import { formDecode } from '../_shared/conceal.ts'

/** One configured key name, prepared at load. */
export interface KeyName {
  /** As configured: query parameters are matched case-sensitively, as Kong does. */
  readonly query: string
  /** Lower-cased header name. */
  readonly header: string
  /** `api_key` also matches the header `api-key` (nginx's header lookup); null when the same. */
  readonly headerAlias: string | null
}

export function prepareKeyNames(names: readonly string[]): KeyName[] {
  return names.map((name) => {
    const header = name.toLowerCase()
    const alias = header.replaceAll('_', '-')
    return { query: name, header, headerAlias: alias === header ? null : alias }
  })
}

/** What the request holds: a key (possibly empty), a duplicate, or nothing under any name. */
export type FoundKey =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'none' }

const NONE: FoundKey = { kind: 'none' }
const DUPLICATE: FoundKey = { kind: 'duplicate' }

export function findKey(
  state: RequestState,
  names: readonly KeyName[],
  inHeader: boolean,
  inQuery: boolean,
): FoundKey {
  let params: QueryParam[] | null = null
  for (const name of names) {
    if (inHeader) {
      const found = headerKey(state, name.header) ?? (name.headerAlias && headerKey(state, name.headerAlias))
      if (found) return found
    }
    if (inQuery && state.query.length > 1) {
      params ??= parseQuery(state.query)
      let value: string | null | undefined
      let count = 0
      for (const p of params)
        if (p.name === name.query) {
          count++
          value = p.value
        }
      if (count > 1) return DUPLICATE
      // `?apikey` without `=` is no key (Kong sees `true`, not a string) and the search goes on.
      if (count === 1 && value !== null) return { kind: 'key', key: value! }
    }
  }
  return NONE
}

/** The key in header `name`, a duplicate when the header is repeated, or undefined when absent. */
function headerKey(state: RequestState, name: string): FoundKey | undefined {
  const value = state.req.headers[name]
  if (value === undefined) return undefined
  // Node joins repeated unknown headers with ", "; only the raw lines tell one value from two.
  const raw = state.req.rawHeaders
  let count = 0
  for (let i = 0; i < raw.length; i += 2) {
    const h = raw[i]!
    if (h.length === name.length && h.toLowerCase() === name && ++count > 1) return DUPLICATE
  }
  return { kind: 'key', key: Array.isArray(value) ? value[0]! : value }
}

interface QueryParam {
  /** Decoded name. */
  readonly name: string
  /** Decoded value; null for a parameter without `=`. */
  readonly value: string | null
}

function parseQuery(query: string): QueryParam[] {
  const out: QueryParam[] = []
  for (const segment of query.slice(1).split('&')) {
    if (segment === '') continue
    const eq = segment.indexOf('=')
    out.push(
      eq === -1
        ? { name: formDecode(segment), value: null }
        : { name: formDecode(segment.slice(0, eq)), value: formDecode(segment.slice(eq + 1)) },
    )
  }
  return out
}
