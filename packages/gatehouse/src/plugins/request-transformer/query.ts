/**
 * Editing a raw query string by parameter name. Parameters the transform does not name keep their exact
 * bytes and order (encoding, `+` for spaces, flags without `=`), because upstreams sign or hash query
 * strings and a proxy that re-encodes them breaks that; Kong re-encodes the whole query instead.
 */

import type { Pair } from '../_shared/header-edits.ts'

export interface QueryOps {
  readonly remove: readonly string[]
  readonly rename: readonly Pair[]
  readonly replace: readonly Pair[]
  readonly add: readonly Pair[]
  readonly append: readonly Pair[]
}

interface Param {
  /** Decoded name, compared with the configured names. */
  name: string
  /** The `name=value` segment as it goes upstream. */
  raw: string
}

/** A function from the upstream query (`?...` or '') to the edited one, or null when `ops` is empty. */
export function compileQueryEdit(ops: QueryOps): ((query: string) => string) | null {
  const { remove, rename, replace, add, append } = ops
  if (remove.length + rename.length + replace.length + add.length + append.length === 0) return null
  const renames = rename
    .filter(([from, to]) => from !== to)
    .map(([from, to]) => [from, to, encodeURIComponent(to)] as const)
  const built = (pairs: readonly Pair[]) =>
    pairs.map(([name, value]) => [name, `${encodeURIComponent(name)}=${encodeURIComponent(value)}`] as const)
  const replaces = built(replace)
  const adds = built(add)
  const appends = built(append)
  const addsAny = adds.length + appends.length > 0

  return (query) => {
    if (query.length <= 1 && !addsAny) return query
    let params = parse(query)
    for (const name of remove) params = params.filter((p) => p.name !== name)
    for (const [from, to, encoded] of renames) {
      if (!params.some((p) => p.name === from)) continue
      params = params.filter((p) => p.name !== to)
      for (const p of params) {
        if (p.name !== from) continue
        const eq = p.raw.indexOf('=')
        p.name = to
        p.raw = eq === -1 ? encoded : encoded + p.raw.slice(eq)
      }
    }
    for (const [name, raw] of replaces) {
      const first = params.findIndex((p) => p.name === name)
      if (first === -1) continue
      params = params.filter((p, i) => i <= first || p.name !== name)
      params[first] = { name, raw }
    }
    for (const [name, raw] of adds) if (!params.some((p) => p.name === name)) params.push({ name, raw })
    for (const [name, raw] of appends) params.push({ name, raw })
    return params.length === 0 ? '' : `?${params.map((p) => p.raw).join('&')}`
  }
}

function parse(query: string): Param[] {
  const params: Param[] = []
  if (query.length <= 1) return params
  for (const raw of query.slice(1).split('&')) {
    if (raw === '') continue
    const eq = raw.indexOf('=')
    params.push({ name: decodeName(eq === -1 ? raw : raw.slice(0, eq)), raw })
  }
  return params
}

/** Form decoding (`+` is a space); a malformed escape leaves the name as written. */
function decodeName(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '))
  } catch {
    return raw
  }
}
