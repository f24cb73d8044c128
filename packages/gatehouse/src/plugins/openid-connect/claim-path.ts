/**
 * Paths into a token's claims, for claim_mapping. A path is either a list of member names
 * (`[realm_access, roles]`) or a string of names joined by dots, where a name containing dots, brackets
 * or quotes is quoted in brackets:
 *
 *   realm_access.roles                        Keycloak realm roles
 *   resource_access["shop-web"].roles         Keycloak client roles
 *   ["https://shop.example/country"]          an Auth0 namespaced claim
 *
 * Inside `["…"]` or `['…']` any character but that quote is part of the name (there are no escapes; use
 * the list form for a name with both quotes). Only own members of objects are followed — never array
 * indexes, never inherited properties — so a path cannot reach `__proto__` or `constructor` of anything.
 */

/** Deepest path accepted. */
export const MAX_PATH_SEGMENTS = 16

const PLAIN_SEGMENT = /^[^.[\]"']+$/

const BAD_PATH = 'expected a claim path such as realm_access.roles or ["https://shop.example/country"]'

/** The member names of a path, or a message saying what is wrong with it. */
export function parseClaimPath(path: string | readonly string[]): string[] | { error: string } {
  const segments = typeof path === 'string' ? splitPath(path) : [...path]
  if ('error' in segments) return segments
  if (segments.length === 0) return { error: 'must name at least one claim' }
  if (segments.length > MAX_PATH_SEGMENTS) return { error: `must have at most ${MAX_PATH_SEGMENTS} segments` }
  if (segments.some((s) => s === '')) return { error: 'must not have an empty segment' }
  return segments
}

function splitPath(path: string): string[] | { error: string } {
  const segments: string[] = []
  let i = 0
  while (i < path.length) {
    if (path[i] === '[') {
      const quote = path[i + 1]
      if (quote !== '"' && quote !== "'") return { error: BAD_PATH }
      const end = path.indexOf(`${quote}]`, i + 2)
      if (end === -1) return { error: BAD_PATH }
      segments.push(path.slice(i + 2, end))
      i = end + 2
    } else {
      let end = i
      while (end < path.length && path[end] !== '.' && path[end] !== '[') end++
      const name = path.slice(i, end)
      if (!PLAIN_SEGMENT.test(name)) return { error: BAD_PATH }
      segments.push(name)
      i = end
    }
    // After a segment: the end, a dot and another segment, or a bracketed segment.
    if (i < path.length) {
      if (path[i] === '.') {
        i++
        if (i === path.length || path[i] === '.') return { error: BAD_PATH }
      } else if (path[i] !== '[') return { error: BAD_PATH }
    }
  }
  return segments
}

/** The value at `path` in `claims`, or undefined when a member on the way is absent or not an object. */
export function claimAt(claims: unknown, path: readonly string[]): unknown {
  let node = claims
  for (const name of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, name))
      return undefined
    node = (node as Record<string, unknown>)[name]
  }
  return node
}
